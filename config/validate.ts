/**
 * Validation of a configuration document: the JSON Schema (ajv, defaults filled in), then
 * the rules a schema cannot say (references between lines and meters, one transport per
 * line, credentials that match the mechanism). Every problem names the key path, the bad
 * value and what is allowed; all problems are reported at once.
 */
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { ConfigSchema, MeterSchema, type Config, type LineConfig, type MeterConfig } from './schema';
import { compileSchema, keyPath, schemaProblems, shown, type ConfigProblem } from '../common/problems';
import { meterKeyFileProblem } from './key-files';
import { parseDuration, parseSize } from './units';

export type { ConfigProblem };
export { keyPath, schemaProblems };

const validateSchema = compileSchema<Config>(ConfigSchema);
const validateMeterSchema = compileSchema<MeterConfig>(MeterSchema);

function addressProblem(line: LineConfig, address: string): string | undefined {
  if (line.serial !== undefined) {
    return /^\d{1,5}(\/\d{1,5})?$/.test(address) ? undefined : `"${address}" is not an HDLC address: LOGICAL or LOGICAL/PHYSICAL, e.g. "1/17"`;
  }
  return /^[A-Za-z0-9_.:[\]-]+:\d{1,5}$/.test(address) ? undefined : `"${address}" is not HOST:PORT, e.g. "10.20.0.15:4059"`;
}

/** serial, tcp or udp: two IP meters of one kind at one HOST:PORT are one endpoint, whatever their lines. */
function lineKind(line: LineConfig): 'serial' | 'tcp' | 'udp' {
  return line.serial !== undefined ? 'serial' : line.udp !== undefined ? 'udp' : 'tcp';
}

/**
 * The key of the slot a meter takes: on a serial line its HDLC address and client on that line
 * (two clients of one meter are two registrations), over TCP/UDP its HOST:PORT among all lines
 * of that kind (one endpoint is one meter: a second registration would read the first meter's
 * data under another serial number).
 */
function slotKey(line: LineConfig, m: { line: string; address: string; client: number }): string {
  const kind = lineKind(line);
  return kind === 'serial' ? `serial ${m.line} ${m.address} ${m.client}` : `${kind} ${m.address.toLowerCase()}`;
}

function slotTaken(line: LineConfig, address: string): string {
  return line.serial !== undefined ? `"${address}" on line ${line.name}` : `${lineKind(line).toUpperCase()} endpoint "${address}"`;
}

function credentialProblems(m: MeterConfig, at: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (m.auth === 'low' && m.password === undefined) out.push({ path: `${at}.password`, message: 'is required with auth: low' });
  if (m.auth === 'high-sha256' && m.secret === undefined) out.push({ path: `${at}.secret`, message: 'is required with auth: high-sha256' });
  if (m.auth === 'high-gmac' || m.auth === 'high-sha256' || (m.security !== undefined && m.security !== 'none')) {
    if (m.systemTitle === undefined) out.push({ path: `${at}.systemTitle`, message: `is required with auth: ${m.auth}${m.security === undefined ? '' : `, security: ${m.security}`}` });
    if (m.auth === 'high-gmac' && m.keys === undefined) out.push({ path: `${at}.keys`, message: 'is required with auth: high-gmac ({name: NAME} in keysDir, {file: PATH} or {blockKey, authKey})' });
  }
  return out;
}

/** Rules across keys, on a document that passed the schema. */
export function semanticProblems(config: Config): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (config.timeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: config.timeZone });
    } catch {
      out.push({ path: 'timeZone', message: `"${config.timeZone}" is not an IANA time zone; e.g. Europe/Madrid, UTC` });
    }
  }
  if (config.api !== undefined && (config.api.cert === undefined) !== (config.api.key === undefined)) {
    out.push({ path: config.api.cert === undefined ? 'api.cert' : 'api.key', message: 'api.cert and api.key go together: give both, or neither for a self-signed certificate' });
  }
  if (config.mqtt !== undefined && config.mqtt.protocol === '3.1.1' && (config.mqtt.deflate?.length ?? 0) > 0) {
    out.push({ path: 'mqtt.deflate', message: 'needs MQTT 5: over 3.1.1 a deflated payload has no way to say so (no user properties)' });
  }
  const lines = new Map<string, LineConfig>();
  config.lines.forEach((line, i) => {
    const at = `lines[${i}]`;
    const kinds = (['serial', 'tcp', 'udp'] as const).filter((k) => line[k] !== undefined);
    if (kinds.length !== 1) out.push({ path: at, message: `needs exactly one of serial, tcp, udp (has ${kinds.length === 0 ? 'none' : kinds.join(', ')})` });
    if (lines.has(line.name)) out.push({ path: `${at}.name`, message: `"${line.name}" is used by another line; line names are unique` });
    lines.set(line.name, line);
    if ((parseDuration(line.timeout) ?? 0) < 50) out.push({ path: `${at}.timeout`, message: `"${line.timeout}" is too short; at least 50ms` });
    const d = line.discovery;
    if (d !== undefined && d.enabled && line.serial === undefined) out.push({ path: `${at}.discovery`, message: 'scans HDLC addresses: only on a serial line' });
    if (d !== undefined && d.from > d.to) out.push({ path: `${at}.discovery.to`, message: `${d.to} is below discovery.from (${d.from}); the range is from..to` });
  });
  const serials = new Set<string>();
  const addresses = new Map<string, string>();
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
      const key = slotKey(line, m);
      const other = addresses.get(key);
      if (bad === undefined && other !== undefined) out.push({ path: `${at}.address`, message: `${slotTaken(line, m.address)} is already used by meter ${other}` });
      if (other === undefined) addresses.set(key, m.serial);
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

/** What a new or changed meter must not collide with. */
export interface MeterSlotInUse {
  readonly serial: string;
  readonly line: string;
  readonly address: string;
  readonly client: number;
}

/**
 * Keys given by a remote command (HES `meter-add`/`meter-update`, local API): inline or by
 * name in keysDir, never a path — a remote party must not make dcud open a file of its
 * choosing (`/dev/zero` grew dcud to gigabytes; `/etc/shadow` would be read as root).
 */
export function remoteKeysProblems(keys: unknown, at: string): ConfigProblem[] {
  if (keys !== null && typeof keys === 'object' && 'file' in keys) {
    return [{ path: `${at}.file`, message: 'remote commands never name files on the box: give the keys inline ({blockKey, authKey}) or by the name of a key file in the concentrator\'s keysDir ({name: NAME} for <keysDir>/NAME.json)' }];
  }
  return [];
}

/**
 * One meter added or changed at run time (HES `meter-add`/`meter-update`, local API): the
 * same schema and rules as a meter of the configuration — its key file read and checked as
 * `config check` does — against the configured lines and the meters already registered.
 * Problems are named from `meter.` (`meter.auth: …`).
 */
export function meterProblems(doc: unknown, lines: readonly LineConfig[], inUse: readonly MeterSlotInUse[], keysDir: string): ConfigProblem[] {
  if (!validateMeterSchema(doc)) return schemaProblems(validateMeterSchema.errors ?? [], doc).map((p) => ({ path: p.path === '(top level)' ? 'meter' : `meter.${p.path}`, message: p.message }));
  const m = doc;
  const out: ConfigProblem[] = [];
  const line = lines.find((l) => l.name === m.line);
  if (line === undefined) out.push({ path: 'meter.line', message: `"${m.line}" is not a line; lines: ${lines.map((l) => l.name).join(', ') || '(none)'}` });
  else {
    const bad = addressProblem(line, m.address);
    if (bad !== undefined) out.push({ path: 'meter.address', message: bad });
    const key = slotKey(line, m);
    const taken = inUse.find((o) => {
      const l = lines.find((x) => x.name === o.line);
      return o.serial !== m.serial && l !== undefined && slotKey(l, o) === key;
    });
    if (bad === undefined && taken !== undefined) out.push({ path: 'meter.address', message: `${slotTaken(line, m.address)} is already meter ${taken.serial}'s` });
  }
  out.push(...credentialProblems(m, 'meter'));
  const keyFile = meterKeyFileProblem(m, keysDir, 'meter');
  if (keyFile !== undefined) out.push(keyFile);
  return out;
}
