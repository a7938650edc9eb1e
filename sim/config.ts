/**
 * dcu-sim configuration: defaults, a JSON file, flags on top, and one validation pass that
 * turns every mistake into a DcuError(Config) naming the field. Schema (all optional except
 * `meters` and one of `serialLines` / `tcpBasePort`):
 *
 *   { "meters": 1024, "serialLines": 4, "tcpBasePort": 4059, "framing": "wrapper",
 *     "baud": 9600, "latencyMs": 20, "jitterMs": 5, "seed": 1, "speed": 1,
 *     "serialPrefix": "SIM", "firstPhysicalAddress": 16, "logicalDevice": 1,
 *     "credentials": [{ "client": 16, "auth": "none" }, { "client": 17, "auth": "low", "password": "00000000" },
 *                     { "client": 2, "auth": "high-sha256", "secret": "…", "policy": "none" }],
 *     "stateDir": "./sim-state", "saveIntervalMs": 60000, "ptyDir": "/tmp/dcu-sim",
 *     "hdlc": { "maxInfoTx": 128, "maxInfoRx": 128, "windowTx": 1, "windowRx": 1 },
 *     "inactivityTimeoutMs": 120000,
 *     "tcpMaxConnections": 4, "tcpIdleTimeoutMs": 120000, "tcpMaxBufferedBytes": 262144,
 *     "faults": { FaultSpec for every meter },
 *     "lineFaults": { "0": FaultSpec },            // by line index
 *     "meterFaults": { "SIM000003": FaultSpec, "7": FaultSpec },   // by serial or index
 *     "replacements": [{ "meter": 3, "afterS": 600, "serial": "NEW000003" }],   // see MeterReplacement
 *     "push": { "to": "tcp://127.0.0.1:4059", "client": 1, "lastGasp": true } }
 * The schema is sim/schema.ts (TypeBox, validated by ajv with the concentrator's messages).
 */
import { readFileSync } from 'node:fs';
import { compileSchema, schemaProblems, shown, type ConfigProblem } from '../common/problems';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import type { HdlcParameters } from '../protocol/hdlc/params';
import type { FaultSpec } from './faults';
import { TCP_LIMIT_DEFAULTS } from './network';
import { parsePushDestination } from './push';
import { FleetConfigSchema, MAX_METERS, MAX_PHYSICAL_ADDRESS, type FleetConfigDoc } from './schema';
import type { ClientCredential } from './types';

export { MAX_METERS, MAX_PHYSICAL_ADDRESS };

/** A meter replaced at its address: from `atMs` on, it answers as `serial`. */
export interface MeterReplacement {
  /** Fleet index of the meter replaced. */
  readonly index: number;
  /** When: meter time (ms since the epoch), or link time after the fleet started. */
  readonly when: { readonly meterTimeMs: number } | { readonly afterMs: number };
  readonly serial: string;
  readonly firmwareId?: string;
}

type Replace<T, R> = Omit<T, keyof R> & R;

/** The validated configuration: the schema's type, with the parts the fleet reads typed as the simulator's. */
export type FleetConfig = Readonly<
  Replace<
    FleetConfigDoc,
    {
      readonly credentials: readonly ClientCredential[];
      readonly hdlc: Partial<HdlcParameters>;
      readonly faults: FaultSpec;
      readonly lineFaults: Readonly<Record<string, FaultSpec>>;
      readonly meterFaults: Readonly<Record<string, FaultSpec>>;
      readonly replacements: readonly MeterReplacement[];
    }
  >
>;

export const DEFAULT_CREDENTIALS: readonly ClientCredential[] = [
  { client: 16, auth: 'none' },
  { client: 17, auth: 'low', password: '00000000' },
  // Management: HLS-GMAC, authenticated and encrypted, with the simulator's test keys (SIM_KEYS).
  { client: 1, auth: 'high' },
];

export const FLEET_DEFAULTS = {
  serialLines: 0,
  framing: 'wrapper',
  baud: 9600,
  latencyMs: 20,
  jitterMs: 5,
  seed: 1,
  speed: 1,
  serialPrefix: 'SIM',
  firstPhysicalAddress: 16,
  logicalDevice: 1,
  saveIntervalMs: 60_000,
  inactivityTimeoutMs: 120_000,
  tcpMaxConnections: TCP_LIMIT_DEFAULTS.maxConnections,
  tcpIdleTimeoutMs: TCP_LIMIT_DEFAULTS.idleTimeoutMs,
  tcpMaxBufferedBytes: TCP_LIMIT_DEFAULTS.maxBufferedBytes,
} as const;

/** Field → flag, so errors from the command line name the flag too. */
export const FLAG_OF: Readonly<Record<string, string>> = {
  meters: '--meters',
  serialLines: '--serial-lines',
  tcpBasePort: '--tcp',
  framing: '--framing',
  baud: '--baud',
  latencyMs: '--latency',
  capturePeriodS: '--capture-period',
  profileDepthDays: '--profile-days',
  jitterMs: '--jitter',
  seed: '--seed',
  speed: '--speed',
  stateDir: '--state',
  saveIntervalMs: '--save-interval',
  ptyDir: '--pty-dir',
  serialPrefix: '--serial-prefix',
  'faults.lossProbability': '--loss',
  'faults.corruptProbability': '--corrupt',
  replacements: '--replace',
  push: '--push',
  'push.to': '--push',
  'push.lastGasp': '--last-gasp',
};

const validateSchema = compileSchema<FleetConfigDoc>(FleetConfigSchema, { coerceTypes: true });

/** `value is not allowed; allowed: what`, as the schema's messages say it. */
function bad(path: string, value: unknown, allowed: string): ConfigProblem {
  return { path, message: `${shown(value, path.replace(/\./g, '/'))} is not allowed; allowed: ${allowed}` };
}

/** An HLS-SHA256 secret: 1 to 64 characters, or hex:HEX of 1 to 64 bytes. */
function secretOk(v: unknown): boolean {
  return typeof v === 'string' && (/^hex:/i.test(v) ? /^hex:(?:[0-9a-fA-F]{2}){1,64}$/i.test(v) : /^.{1,64}$/.test(v));
}

function credentialProblems(list: FleetConfigDoc['credentials']): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const seen = new Set<number>();
  (list ?? []).forEach((c, i) => {
    const f = `credentials[${i}]`;
    if (seen.has(c.client)) out.push(bad(`${f}.client`, c.client, 'a client address listed once'));
    seen.add(c.client);
    if (c.auth !== 'high-sha256' && c.secret !== undefined) out.push({ path: `${f}.secret`, message: 'is allowed only with auth "high-sha256" (value not shown)' });
    if (c.auth === 'low' && (c.password === undefined || !/^.{1,64}$/.test(c.password))) {
      out.push({ path: `${f}.password`, message: 'is required with auth "low": a password of 1 to 64 characters (value not shown)' });
    }
    if (c.auth === 'high-sha256' && !secretOk(c.secret)) {
      out.push({ path: `${f}.secret`, message: 'is required with auth "high-sha256": 1 to 64 characters, or hex:HEX of 1 to 64 bytes (value not shown)' });
    }
  });
  return out;
}

/** Keeps only the fields each mechanism uses, as the meters read them. */
function credentials(list: FleetConfigDoc['credentials']): readonly ClientCredential[] {
  if (list === undefined) return DEFAULT_CREDENTIALS;
  return list.map((c): ClientCredential => {
    if (c.auth === 'low') return { client: c.client, auth: c.auth, password: c.password ?? '' };
    if (c.auth === 'none') return { client: c.client, auth: c.auth };
    const { client, auth, secret, policy, blockKey, authKey, masterKey } = c;
    return {
      client,
      auth,
      ...(auth === 'high-sha256' && secret !== undefined ? { secret } : {}),
      ...(policy === undefined ? {} : { policy }),
      ...(blockKey === undefined ? {} : { blockKey }),
      ...(authKey === undefined ? {} : { authKey }),
      ...(masterKey === undefined ? {} : { masterKey }),
    };
  });
}

function faultProblems(spec: FaultSpec, at: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  (spec.silent ?? []).forEach((p, i) => {
    const f = `${at}.silent[${i}]`;
    if ('fromMs' in p && p.toMs < p.fromMs) out.push(bad(`${f}.toMs`, p.toMs, `at least fromMs (${p.fromMs})`));
    if ('everyMs' in p && p.forMs > p.everyMs) out.push(bad(`${f}.forMs`, p.forMs, `at most everyMs (${p.everyMs})`));
  });
  return out;
}

/** powerCutEveryMs 0 means none. */
function faults(spec: FaultSpec): FaultSpec {
  if (spec.powerCutEveryMs !== 0) return spec;
  const rest: { -readonly [K in keyof FaultSpec]: FaultSpec[K] } = { ...spec };
  delete rest.powerCutEveryMs;
  return rest;
}

function faultMap(map: Readonly<Record<string, FaultSpec>>): Record<string, FaultSpec> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, faults(v)]));
}

/** The fleet index a replacement or fault key names: an index, or a serial of this fleet. */
function indexOf(key: string | number, doc: FleetConfigDoc): number | undefined {
  if (typeof key === 'number' || /^\d+$/.test(key)) return Number(key) < doc.meters ? Number(key) : undefined;
  return meterIndexOf(key, doc.serialPrefix, doc.meters);
}

function replacements(doc: FleetConfigDoc, out: ConfigProblem[]): MeterReplacement[] {
  const list: MeterReplacement[] = [];
  const serials = new Set<string>();
  doc.replacements.forEach((r, i) => {
    const at = `replacements[${i}]`;
    const index = indexOf(r.meter, doc);
    if (index === undefined) out.push(bad(`${at}.meter`, r.meter, `a meter index 0..${doc.meters - 1} or a serial of this fleet`));
    if ((r.at === undefined) === (r.afterS === undefined)) out.push({ path: at, message: 'needs exactly one of at (ISO time on the meter clock) or afterS (seconds after start)' });
    if (indexOf(r.serial, doc) !== undefined || serials.has(r.serial)) out.push(bad(`${at}.serial`, r.serial, 'a serial number no other meter of the fleet has'));
    serials.add(r.serial);
    const ms = r.at === undefined ? undefined : Date.parse(r.at);
    if (ms !== undefined && !Number.isFinite(ms)) out.push(bad(`${at}.at`, r.at, 'a valid ISO 8601 time'));
    if (index === undefined) return;
    const when = ms !== undefined ? { meterTimeMs: ms } : { afterMs: Math.round((r.afterS ?? 0) * 1000) };
    list.push({ index, when, serial: r.serial, ...(r.firmwareId === undefined ? {} : { firmwareId: r.firmwareId }) });
  });
  return list;
}

/** Rules across fields, on a document that passed the schema. */
function semanticProblems(doc: FleetConfigDoc): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const { meters, serialLines, tcpBasePort, firstPhysicalAddress } = doc;
  if (serialLines === 0 && tcpBasePort === undefined) {
    out.push({ path: 'serialLines', message: 'give serialLines (--serial-lines K) or tcpBasePort (--tcp BASEPORT), or both' });
  }
  if (serialLines > meters) out.push(bad('serialLines', serialLines, `at most the number of meters (${meters})`));
  if (tcpBasePort !== undefined && tcpBasePort + meters - 1 > 65_535) {
    out.push(bad('tcpBasePort', tcpBasePort, `at most ${65_536 - meters} so that ${meters} ports fit below 65536`));
  }
  const perLine = serialLines > 0 ? Math.ceil(meters / serialLines) : 0;
  if (perLine > 0 && firstPhysicalAddress + perLine - 1 > MAX_PHYSICAL_ADDRESS) {
    out.push(bad('firstPhysicalAddress', firstPhysicalAddress, `at most ${MAX_PHYSICAL_ADDRESS - perLine + 1} for ${perLine} meters per line`));
  }
  if (86_400 % doc.capturePeriodS !== 0) out.push(bad('capturePeriodS', doc.capturePeriodS, 'a divisor of a day in seconds (60, 300, 900, 1800, 3600…)'));
  out.push(...credentialProblems(doc.credentials));
  if (doc.push !== undefined) {
    const { to, client } = doc.push;
    if (to !== undefined && parsePushDestination(to) === undefined) out.push(bad('push.to', to, 'tcp://HOST:PORT, udp://HOST:PORT or HOST:PORT'));
    const listed = doc.credentials ?? DEFAULT_CREDENTIALS;
    if (!listed.some((x) => x.client === client)) out.push(bad('push.client', client, 'a client address listed in credentials'));
  }
  out.push(...faultProblems(doc.faults, 'faults'));
  for (const [k, spec] of Object.entries(doc.lineFaults)) {
    if (!isIndex(k, serialLines)) out.push(bad(`lineFaults.${k}`, k, `a key that is a line index 0..${serialLines - 1}`));
    out.push(...faultProblems(spec, `lineFaults.${k}`));
  }
  for (const [k, spec] of Object.entries(doc.meterFaults)) {
    if (indexOf(k, doc) === undefined) out.push(bad(`meterFaults.${k}`, k, `a key that is a meter serial or index 0..${meters - 1}`));
    out.push(...faultProblems(spec, `meterFaults.${k}`));
  }
  return out;
}

function label(path: string): string {
  const flag = FLAG_OF[path];
  return flag === undefined ? path : `${path} (${flag})`;
}

/** One DcuError(Config) listing every problem, each with its key path (and flag). */
export function fleetConfigError(source: string, problems: readonly ConfigProblem[]): DcuError {
  const first = problems[0];
  const flag = first === undefined ? undefined : FLAG_OF[first.path];
  const lines = problems.map((p) => `  ${label(p.path)}: ${p.message}`);
  return new DcuError(ErrorCode.Config, `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${lines.join('\n')}`, {
    context: { source, problems: problems.length, ...(first === undefined ? {} : { field: first.path }), ...(flag === undefined ? {} : { flag }) },
  });
}

/** Validates a raw configuration (file contents with flags merged on top). */
export function parseFleetConfig(raw: unknown, source = 'configuration'): FleetConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DcuError(ErrorCode.Config, `${source}: the configuration must be an object, got ${shown(raw)}`, { context: { field: 'the configuration', source } });
  }
  const doc: unknown = structuredClone(raw);
  if (!validateSchema(doc)) throw fleetConfigError(source, schemaProblems(validateSchema.errors ?? [], doc));
  const problems = semanticProblems(doc);
  const replaced = replacements(doc, problems);
  if (problems.length > 0) throw fleetConfigError(source, problems);
  return {
    ...doc,
    credentials: credentials(doc.credentials),
    faults: faults(doc.faults),
    lineFaults: faultMap(doc.lineFaults),
    meterFaults: faultMap(doc.meterFaults),
    replacements: replaced,
  };
}

function isIndex(key: string, count: number): boolean {
  return /^\d+$/.test(key) && Number(key) < count;
}

/** Index of a meter serial of this fleet, or undefined. */
export function meterIndexOf(serial: string, prefix: string, meters: number): number | undefined {
  if (!serial.startsWith(prefix)) return undefined;
  const digits = serial.slice(prefix.length);
  if (!/^\d{6,}$/.test(digits)) return undefined;
  const i = Number(digits);
  return i < meters && meterSerial(prefix, i) === serial ? i : undefined;
}

/** Reads a JSON configuration file (not yet validated: merge flags, then parseFleetConfig). */
export function readFleetConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DcuError(ErrorCode.Config, `cannot read configuration file ${path}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
      context: { source: path },
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DcuError(ErrorCode.Config, `${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
      context: { source: path },
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DcuError(ErrorCode.Config, `${path}: the configuration must be a JSON object`, { context: { source: path } });
  }
  return raw as Record<string, unknown>;
}

/** The meter serial of index i: prefix + 6-digit zero-padded index (SIM000000). */
export function meterSerial(prefix: string, index: number): string {
  return `${prefix}${String(index).padStart(6, '0')}`;
}
