/**
 * Validation of a configuration document: the JSON Schema (ajv, defaults filled in), then
 * the rules a schema cannot say (references between lines and meters, one transport per
 * line, credentials that match the mechanism). Every problem names the key path, the bad
 * value and what is allowed; all problems are reported at once.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { ConfigSchema, type Config, type LineConfig, type MeterConfig } from './schema';
import { parseDuration, parseSize } from './units';

export interface ConfigProblem {
  /** Key path as people write it: `meters[1].auth`. */
  readonly path: string;
  readonly message: string;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validateSchema = ajv.compile<Config>(ConfigSchema);

/** `/meters/1/auth` → `meters[1].auth`. */
export function keyPath(pointer: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '') || '(top level)';
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function valueAt(doc: unknown, pointer: string): unknown {
  let at: unknown = doc;
  for (const p of pointer.split('/').slice(1)) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[p];
  }
  return at;
}

function describe(e: ErrorObject, doc: unknown): ConfigProblem {
  const path = keyPath(e.instancePath);
  const value = valueAt(doc, e.instancePath);
  const schema = e.parentSchema as { description?: string } | undefined;
  const what = schema?.description === undefined ? '' : ` — ${schema.description}`;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      return { path: keyPath(`${e.instancePath}/${key}`), message: `unknown key "${key}"; allowed here: ${allowed.join(', ')}` };
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      return { path: keyPath(`${e.instancePath}/${key}`), message: 'is required' };
    }
    case 'enum':
    case 'const': {
      const allowed = (e.params as { allowedValues?: unknown[]; allowedValue?: unknown }).allowedValues ?? [(e.params as { allowedValue?: unknown }).allowedValue];
      return { path, message: `${shown(value)} is not allowed; allowed: ${allowed.map((a) => String(a)).join(', ')}${what}` };
    }
    case 'pattern':
      return { path, message: `${shown(value)} has the wrong form${what}` };
    default:
      return { path, message: `${shown(value)}: ${e.message ?? 'invalid'}${what}` };
  }
}

/** Union errors come as one per branch: keep the most useful, once per path. */
function schemaProblems(errors: readonly ErrorObject[], doc: unknown): ConfigProblem[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const out: ConfigProblem[] = [];
  for (const [pointer, list] of byPath) {
    const consts = list.filter((e) => e.keyword === 'const');
    if (consts.length > 1 && list.some((e) => e.keyword === 'anyOf')) {
      // a union of literals: one message listing every allowed value
      const allowed = consts.map((e) => String((e.params as { allowedValue: unknown }).allowedValue));
      const desc = (list.find((e) => e.keyword === 'anyOf')?.parentSchema as { description?: string } | undefined)?.description;
      out.push({ path: keyPath(pointer), message: `${shown(valueAt(doc, pointer))} is not allowed; allowed: ${allowed.join(', ')}${desc === undefined ? '' : ` — ${desc}`}` });
      continue;
    }
    const specific = list.filter((e) => e.keyword !== 'anyOf');
    for (const e of specific.length > 0 ? specific : list) out.push(describe(e, doc));
  }
  // the same problem reported by several union branches once
  return out.filter((p, i) => out.findIndex((q) => q.path === p.path && q.message === p.message) === i);
}

function addressProblem(line: LineConfig, address: string): string | undefined {
  if (line.serial !== undefined) {
    return /^\d{1,5}(\/\d{1,5})?$/.test(address) ? undefined : `"${address}" is not an HDLC address: LOGICAL or LOGICAL/PHYSICAL, e.g. "1/17"`;
  }
  return /^[A-Za-z0-9_.:[\]-]+:\d{1,5}$/.test(address) ? undefined : `"${address}" is not HOST:PORT, e.g. "10.20.0.15:4059"`;
}

function credentialProblems(m: MeterConfig, at: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (m.auth === 'low' && m.password === undefined) out.push({ path: `${at}.password`, message: 'is required with auth: low' });
  if (m.auth === 'high-sha256' && m.secret === undefined) out.push({ path: `${at}.secret`, message: 'is required with auth: high-sha256' });
  if (m.auth === 'high-gmac' || m.auth === 'high-sha256' || (m.security !== undefined && m.security !== 'none')) {
    if (m.systemTitle === undefined) out.push({ path: `${at}.systemTitle`, message: `is required with auth: ${m.auth}${m.security === undefined ? '' : `, security: ${m.security}`}` });
    if (m.auth === 'high-gmac' && m.keys === undefined) out.push({ path: `${at}.keys`, message: 'is required with auth: high-gmac ({file: PATH} or {blockKey, authKey})' });
  }
  return out;
}

/** Rules across keys, on a document that passed the schema. */
export function semanticProblems(config: Config): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const lines = new Map<string, LineConfig>();
  config.lines.forEach((line, i) => {
    const at = `lines[${i}]`;
    const kinds = (['serial', 'tcp', 'udp'] as const).filter((k) => line[k] !== undefined);
    if (kinds.length !== 1) out.push({ path: at, message: `needs exactly one of serial, tcp, udp (has ${kinds.length === 0 ? 'none' : kinds.join(', ')})` });
    if (lines.has(line.name)) out.push({ path: `${at}.name`, message: `"${line.name}" is used by another line; line names are unique` });
    lines.set(line.name, line);
    if ((parseDuration(line.timeout) ?? 0) < 50) out.push({ path: `${at}.timeout`, message: `"${line.timeout}" is too short; at least 50ms` });
  });
  const serials = new Set<string>();
  const addresses = new Set<string>();
  const titles = new Set<string>();
  config.meters.forEach((m, i) => {
    const at = `meters[${i}]`;
    if (serials.has(m.serial)) out.push({ path: `${at}.serial`, message: `"${m.serial}" is listed twice; serial numbers are unique` });
    serials.add(m.serial);
    const line = lines.get(m.line);
    if (line === undefined) {
      out.push({ path: `${at}.line`, message: `"${m.line}" is not a line; lines: ${[...lines.keys()].join(', ') || '(none)'}` });
    } else {
      const bad = addressProblem(line, m.address);
      if (bad !== undefined) out.push({ path: `${at}.address`, message: bad });
      const key = `${m.line} ${m.address} ${m.client}`;
      if (bad === undefined && line.serial !== undefined && addresses.has(key)) out.push({ path: `${at}.address`, message: `"${m.address}" on line ${m.line} is already used by another meter` });
      addresses.add(key);
    }
    out.push(...credentialProblems(m, at));
    if (m.meterSystemTitle !== undefined) {
      if (m.keys === undefined) out.push({ path: `${at}.meterSystemTitle`, message: 'needs keys: the meter\'s ciphered pushes are decrypted with them' });
      const title = m.meterSystemTitle.toUpperCase();
      if (titles.has(title)) out.push({ path: `${at}.meterSystemTitle`, message: `"${m.meterSystemTitle}" is another meter's system title; system titles are unique` });
      titles.add(title);
    }
  });
  const sync = parseDuration(config.clock.syncAbove) ?? 0;
  const event = parseDuration(config.clock.eventAbove) ?? 0;
  if (event < sync) out.push({ path: 'clock.eventAbove', message: `"${config.clock.eventAbove}" must not be below clock.syncAbove ("${config.clock.syncAbove}")` });
  const size = parseSize(config.storage.maxBytes);
  if (size === undefined || size < 1_000_000) out.push({ path: 'storage.maxBytes', message: `${shown(config.storage.maxBytes)} is too small or not a size; at least 1MB (e.g. "2GB")` });
  for (const [cls, plan] of Object.entries(config.collection)) {
    if ((parseDuration(plan.every) ?? 0) < 1000) out.push({ path: `collection.${cls}.every`, message: `"${plan.every}" is too short; at least 1s` });
  }
  return out;
}

/**
 * Validates a parsed document (a fresh object: defaults are filled in place) and returns the
 * configuration, or throws DcuError(Config) listing every problem.
 */
export function validateConfig(doc: unknown, source = 'config'): Config {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw configError(source, [{ path: '(top level)', message: 'must be a mapping of keys (id, stateDir, lines, meters, …)' }]);
  }
  if (!validateSchema(doc)) throw configError(source, schemaProblems(validateSchema.errors ?? [], doc));
  const problems = semanticProblems(doc);
  if (problems.length > 0) throw configError(source, problems);
  return doc;
}

export function configError(source: string, problems: readonly ConfigProblem[]): DcuError {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
  return new DcuError(ErrorCode.Config, `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${lines.join('\n')}`, {
    context: { source, problems: problems.length, first: problems[0] === undefined ? undefined : `${problems[0].path}: ${problems[0].message}` },
  });
}
