/**
 * Limits on what a client may send, shared by every entry point (HES commands over MQTT, the
 * HTTP API, the local socket): how deep a JSON document may nest, and which topics an answer
 * may be sent to. Both checks are cheap, iterative and run before anything else looks at the
 * document, so a hostile payload gets one typed usage error instead of a stack overflow.
 */
import { DcuError, ErrorCode } from '../protocol/common/errors';

/** No command or API body needs more than a handful of levels; 32 leaves room and keeps every recursive consumer safe. */
export const MAX_JSON_DEPTH = 32;

/**
 * The deepest nesting of arrays and objects in a JSON text (strings skipped), scanning at
 * most until the depth passes `stopAt`. Iterative: any input length, no recursion.
 */
export function jsonDepth(text: string, stopAt = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAt) return max;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Throws the typed usage error when `text` nests deeper than MAX_JSON_DEPTH; `what` names the document. */
export function checkJsonDepth(text: string, what: string): void {
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new DcuError(ErrorCode.Usage, `${what}: JSON nested deeper than ${MAX_JSON_DEPTH} levels (arrays and objects); no request needs that many, send a flatter document`, { context: { maxDepth: MAX_JSON_DEPTH } });
  }
}

/** JSON.parse after the depth check. */
export function parseJsonLimited(text: string, what: string): unknown {
  checkJsonDepth(text, what);
  return JSON.parse(text) as unknown;
}

/**
 * Why an answer may not go to `topic` (undefined when it may): it must be a valid MQTT topic
 * name — not empty, no wildcards `+`/`#`, no NUL, not a broker `$` topic — and not under the
 * concentrator's own `<prefix>cmd/`, where an answer would be taken for a command.
 */
export function replyTopicProblem(topic: string, prefix: string): string | undefined {
  if (topic === '') return 'the reply topic is empty';
  if (/[+#]/.test(topic)) return `the reply topic ${JSON.stringify(topic)} has a wildcard (+ or #): give a topic name, e.g. hes/replies/1`;
  if (topic.includes('\u0000')) return 'the reply topic has a NUL character';
  if (topic.startsWith('$')) return `the reply topic ${JSON.stringify(topic)} starts with $ (the broker's own topics)`;
  if (topic.startsWith(`${prefix}cmd/`)) return `the reply topic ${JSON.stringify(topic)} is under the concentrator's own ${prefix}cmd/: an answer there would be taken for a command; reply to a topic of the HES`;
  return undefined;
}

/** The concentrator's topic prefix (mqtt.topicPrefix, default dcu/<id>/). */
export const topicPrefixOf = (config: { readonly id: string; readonly mqtt?: { readonly topicPrefix?: string | undefined } | undefined }): string => config.mqtt?.topicPrefix ?? `dcu/${config.id}/`;
