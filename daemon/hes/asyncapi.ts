/**
 * The HES-command part of docs/asyncapi.yaml, generated from the code so the contract
 * cannot drift: one `cmd-<name>` channel and receive operation per entry of COMMAND_SCHEMAS
 * (whatever is there, including commands added later), its request schema as is, and its
 * answers from ANSWER_SCHEMAS. The rest of the file is written by hand; the generated
 * blocks sit between `# BEGIN generated …` / `# END generated …` marker lines.
 *
 *   npm run docs:asyncapi      (node dist/daemon/hes/asyncapi.js docs/asyncapi.yaml)
 *
 * test/docs/asyncapi.test.ts fails when the file differs from what this would write.
 */
import { FIRMWARE_RESULT_SCHEMAS } from '../firmware/messages';
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { answersOf, ErrorAnswer } from './answers';
import { COMMAND_SCHEMAS, MAX_COMMAND_BYTES } from './commands';

type Doc = Record<string, unknown>;
/** TypeBox schemas carry symbols; the contract wants plain JSON Schema. */
const plain = (schema: unknown): Doc => JSON.parse(JSON.stringify(schema)) as Doc;
const ref = (path: string): Doc => ({ $ref: `#/${path}` });
const DCU_ID = { dcuId: ref('components/parameters/dcuId') };

export const REPLY_DESCRIPTION =
  'Answers go to the MQTT 5 response topic of the command (with its correlation data), else to the `replyTo` of the payload (MQTT 3.1.1, with `correlationId` echoed in every answer), else to `dcu/{dcuId}/resp/<name>`.';

/** The generated blocks: channels, operations, components/messages. */
export function commandContract(names: readonly string[] = Object.keys(COMMAND_SCHEMAS)): { channels: Doc; operations: Doc; messages: Doc; schemas: Doc } {
  const channels: Doc = {};
  const operations: Doc = {};
  const messages: Doc = {};
  const answerRefs: Doc = {};
  for (const name of names) {
    const request = (COMMAND_SCHEMAS as Record<string, { description?: string }>)[name];
    const id = `cmd-${name}`;
    const summary = request?.description ?? name;
    channels[id] = { address: `dcu/{dcuId}/cmd/${name}`, description: `HES → dcu: ${summary}.`, parameters: DCU_ID, messages: { request: ref(`components/messages/${id}`) } };
    messages[id] = {
      name: id,
      summary,
      contentType: 'application/json',
      description: `At most ${MAX_COMMAND_BYTES} bytes. Refused (nothing applied) when it is not JSON, breaks this schema, names an unknown meter or has expired (\`expiresAt\`, or the MQTT 5 message expiry in the broker).`,
      payload: plain(request),
    };
    messages[`${id}-answer`] = { name: `${id}-answer`, summary: `an answer to ${name}`, contentType: 'application/json', payload: { oneOf: [...answersOf(name).map(plain), ref('components/schemas/cmdError')] } };
    answerRefs[`${id}-answer`] = ref(`components/messages/${id}-answer`);
    operations[`receiveCmd${name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}`] = {
      action: 'receive',
      channel: ref(`channels/${id}`),
      reply: { address: { description: REPLY_DESCRIPTION, location: '$message.payload#/replyTo' }, channel: ref('channels/cmd-reply'), messages: [ref(`channels/cmd-reply/messages/${id}-answer`)] },
    };
  }
  messages['cmd-error'] = { name: 'cmd-error', summary: 'the answer to any refused command, an unknown one included (sent to resp/<name> or the response topic)', contentType: 'application/json', payload: ref('components/schemas/cmdError') };
  answerRefs['cmd-error'] = ref('components/messages/cmd-error');
  channels['cmd-reply'] = { address: null, description: `dcu → HES: answers to commands. ${REPLY_DESCRIPTION}`, messages: answerRefs };
  channels['cmd-resp'] = { address: 'dcu/{dcuId}/resp/{command}', description: 'dcu → HES: answers to commands that named no response topic and no replyTo.', parameters: { ...DCU_ID, command: { description: 'the command name' } }, messages: answerRefs };
  operations['sendCmdResp'] = { action: 'send', channel: ref('channels/cmd-resp') };
  return { channels, operations, messages, schemas: { cmdError: plain(ErrorAnswer), ...firmwareResultItems() } };
}

/** `data/results` items of firmware campaigns (daemon/firmware/messages.ts), with the envelope's `seq` per item. */
export const FIRMWARE_ITEM_NAMES = Object.keys(FIRMWARE_RESULT_SCHEMAS).map((k) => `${k.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())}Item`);

function firmwareResultItems(): Doc {
  const out: Doc = {};
  Object.entries(FIRMWARE_RESULT_SCHEMAS).forEach(([, schema], i) => {
    const s = plain(schema) as { properties?: Doc; required?: string[] };
    out[FIRMWARE_ITEM_NAMES[i] ?? `fw${i}Item`] = { ...s, properties: { seq: ref('components/schemas/seq'), ...s.properties }, required: ['seq', ...(s.required ?? [])] };
  });
  return out;
}

const BLOCKS = [
  ['channels', 2],
  ['operations', 2],
  ['messages', 4],
  ['schemas', 4],
] as const;

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .trimEnd()
    .split('\n')
    .map((l) => (l === '' ? l : pad + l))
    .join('\n');
}

/** `text` (docs/asyncapi.yaml) with its generated blocks rewritten from the code. */
export function renderAsyncApi(text: string): string {
  const contract = commandContract();
  let out = text;
  for (const [block, n] of BLOCKS) {
    const begin = `${' '.repeat(n)}# BEGIN generated cmd ${block} (npm run docs:asyncapi; do not edit)\n`;
    const end = `${' '.repeat(n)}# END generated cmd ${block}\n`;
    const a = out.indexOf(begin);
    const b = out.indexOf(end);
    if (a < 0 || b < a) throw new DcuError(ErrorCode.Config, `docs/asyncapi.yaml lacks the marker lines of the generated ${block} block ("${begin.trim()}" … "${end.trim()}"); put them back where the cmd ${block} belong`);
    out = `${out.slice(0, a + begin.length)}${indent(stringify(contract[block], { lineWidth: 0, aliasDuplicateObjects: false }), n)}\n${out.slice(b)}`;
  }
  return out;
}

if (require.main === module) {
  const file = process.argv[2] ?? 'docs/asyncapi.yaml';
  writeFileSync(file, renderAsyncApi(readFileSync(file, 'utf8')));
}
