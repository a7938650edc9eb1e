/**
 * The contract docs/asyncapi.yaml, parsed with @asyncapi/parser, as validators: each message
 * a test sees on the broker is checked against the payload schemas of the channel whose
 * address matches its topic (ajv). `check` throws naming the topic and the schema errors.
 */
import { fromFile, Parser } from '@asyncapi/parser';
import Ajv, { type ValidateFunction } from 'ajv';
import { join } from 'node:path';

export const ASYNCAPI_FILE = join(__dirname, '..', '..', 'docs', 'asyncapi.yaml');

export interface Contract {
  /** Channel addresses (templates, e.g. dcu/{dcuId}/status). */
  readonly addresses: readonly string[];
  /** Throws unless `payload` (JSON) is valid for the channel of `topic`. */
  check(topic: string, payload: unknown): void;
  /** Throws unless `payload` is valid for the message `id` of components/messages (e.g. cmd-read-answer: answers arrive on topics the HES chose). */
  checkMessage(id: string, payload: unknown): void;
  /** Messages checked so far. */
  readonly checked: number;
}

export async function loadContract(): Promise<Contract> {
  const { document, diagnostics } = await fromFile(new Parser(), ASYNCAPI_FILE).parse();
  const errors = diagnostics.filter((d) => (d.severity as number) === 0);
  if (document === undefined || errors.length > 0) throw new Error(`docs/asyncapi.yaml does not parse: ${errors.map((d) => `${d.message} at ${d.path.join('.')}`).join('; ')}`);
  const ajv = new Ajv({ strict: false, allErrors: true, formats: { 'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/ } });
  const channels: { address: string; pattern: RegExp; validators: ValidateFunction[] }[] = [];
  for (const c of document.channels().all()) {
    const address = c.address() ?? '';
    const pattern = new RegExp(`^${address.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    channels.push({ address, pattern, validators: c.messages().all().map((m) => ajv.compile(m.payload()?.json() ?? {})) });
  }
  const messages = new Map<string, ValidateFunction>();
  for (const m of document.components().messages().all()) messages.set(m.id(), ajv.compile(m.payload()?.json() ?? {}));
  let checked = 0;
  return {
    addresses: channels.map((c) => c.address),
    get checked() {
      return checked;
    },
    check(topic, payload) {
      const ch = channels.find((c) => c.pattern.test(topic));
      if (ch === undefined) throw new Error(`topic ${topic} is not in docs/asyncapi.yaml`);
      const failures = ch.validators.map((v) => (v(payload) ? null : ajv.errorsText(v.errors))).filter((e) => e !== null);
      if (failures.length === ch.validators.length) throw new Error(`message on ${topic} does not match docs/asyncapi.yaml: ${failures.join(' | ')}\n${JSON.stringify(payload).slice(0, 500)}`);
      checked++;
    },
    checkMessage(id, payload) {
      const v = messages.get(id);
      if (v === undefined) throw new Error(`message ${id} is not in docs/asyncapi.yaml components/messages`);
      if (!v(payload)) throw new Error(`message ${id} does not match docs/asyncapi.yaml: ${ajv.errorsText(v.errors)}\n${JSON.stringify(payload).slice(0, 500)}`);
      checked++;
    },
  };
}
