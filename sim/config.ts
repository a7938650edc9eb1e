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
 *     "push": { "to": "tcp://127.0.0.1:4059", "client": 1, "lastGasp": true },
 *     "tcpMaxConnections": 4, "tcpIdleTimeoutMs": 120000, "tcpMaxBufferedBytes": 262144,
 *     "faults": { FaultSpec for every meter },
 *     "lineFaults": { "0": FaultSpec },            // by line index
 *     "meterFaults": { "SIM000003": FaultSpec, "7": FaultSpec } }   // by serial or index
 */
import { readFileSync } from 'node:fs';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import type { HdlcParameters } from '../protocol/hdlc/params';
import type { FaultSpec, SilentPeriod } from './faults';
import { TCP_LIMIT_DEFAULTS, type TcpFraming } from './network';
import { parsePushDestination, type PushSettings } from './push';
import type { AuthMechanism, ClientCredential } from './types';
import { Checker, type Obj } from './validate';

export interface FleetConfig {
  readonly meters: number;
  /** Serial lines (socat pty pairs); 0 = none. */
  readonly serialLines: number;
  /** First TCP port (meter i listens on base + i); undefined = no TCP. */
  readonly tcpBasePort?: number;
  readonly framing: TcpFraming;
  readonly baud: number;
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly seed: number;
  /** Meter time runs this many times faster than real time. */
  readonly speed: number;
  readonly serialPrefix: string;
  readonly firstPhysicalAddress: number;
  readonly logicalDevice: number;
  readonly credentials: readonly ClientCredential[];
  readonly stateDir?: string;
  readonly saveIntervalMs: number;
  /** Where the pty links are made (default: a new temporary directory). */
  readonly ptyDir?: string;
  readonly hdlc: Partial<HdlcParameters>;
  readonly inactivityTimeoutMs: number;
  /** TCP: connections at once per meter; more are closed on accept. */
  readonly tcpMaxConnections: number;
  /** TCP: a connection that sends nothing this long is closed (0 = never). */
  readonly tcpIdleTimeoutMs: number;
  /** TCP: answer bytes waiting for a client before its connection stops being read. */
  readonly tcpMaxBufferedBytes: number;
  readonly faults: FaultSpec;
  readonly lineFaults: Readonly<Record<string, FaultSpec>>;
  readonly meterFaults: Readonly<Record<string, FaultSpec>>;
  /** Load profile capture period of every meter, seconds (default 900; 60 for fast tests). */
  readonly capturePeriodS: number;
  /** Days of load profile every meter holds (default 60). */
  readonly profileDepthDays: number;
  /** Meters push alarms (serial lines: UI frames on the bus; TCP meters: to push.to); absent = off. */
  readonly push?: PushSettings;
}

export const MAX_METERS = 65_535;
/** Largest physical address a 4-byte HDLC server address carries. */
export const MAX_PHYSICAL_ADDRESS = 0x3fff;

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
  push: '--push',
  'push.to': '--push',
  'push.lastGasp': '--last-gasp',
};

const TOP_FIELDS = [
  'meters', 'serialLines', 'tcpBasePort', 'framing', 'baud', 'latencyMs', 'jitterMs', 'seed', 'speed', 'serialPrefix',
  'firstPhysicalAddress', 'logicalDevice', 'credentials', 'stateDir', 'saveIntervalMs', 'ptyDir', 'hdlc',
  'inactivityTimeoutMs', 'tcpMaxConnections', 'tcpIdleTimeoutMs', 'tcpMaxBufferedBytes', 'faults', 'lineFaults', 'meterFaults',
  'capturePeriodS', 'profileDepthDays', 'push',
] as const;

const FAULT_FIELDS = [
  'lossProbability', 'corruptProbability', 'extraLatencyMs', 'silent', 'rejectAssociations', 'powerCutsAtMs',
  'powerCutEveryMs', 'powerOutageMs',
] as const;

const DAY = 86_400_000;
const YEAR = 366 * DAY;

function parseSilent(c: Checker, field: string, v: unknown): SilentPeriod {
  const o = c.object(field, v, ['fromMs', 'toMs', 'everyMs', 'forMs', 'offsetMs']);
  if ('fromMs' in o || 'toMs' in o) {
    const fromMs = c.number(`${field}.fromMs`, o['fromMs'], 0, YEAR);
    const toMs = c.number(`${field}.toMs`, o['toMs'], fromMs, YEAR);
    return { fromMs, toMs };
  }
  const everyMs = c.number(`${field}.everyMs`, o['everyMs'], 1, YEAR);
  const forMs = c.number(`${field}.forMs`, o['forMs'], 1, everyMs);
  const offsetMs = c.optionalNumber(`${field}.offsetMs`, o['offsetMs'], 0, YEAR);
  return offsetMs === undefined ? { everyMs, forMs } : { everyMs, forMs, offsetMs };
}

export function parseFaultSpec(c: Checker, field: string, v: unknown): FaultSpec {
  const o = c.object(field, v, FAULT_FIELDS);
  const out: { -readonly [K in keyof FaultSpec]: FaultSpec[K] } = {};
  const n = (k: string, max: number, integer = true): number | undefined => c.optionalNumber(`${field}.${k}`, o[k], 0, max, integer);
  const loss = n('lossProbability', 1, false);
  if (loss !== undefined) out.lossProbability = loss;
  const corrupt = n('corruptProbability', 1, false);
  if (corrupt !== undefined) out.corruptProbability = corrupt;
  const extra = n('extraLatencyMs', 600_000);
  if (extra !== undefined) out.extraLatencyMs = extra;
  if (o['silent'] !== undefined) out.silent = c.array(`${field}.silent`, o['silent']).map((p, i) => parseSilent(c, `${field}.silent[${i}]`, p));
  if (o['rejectAssociations'] !== undefined) out.rejectAssociations = c.boolean(`${field}.rejectAssociations`, o['rejectAssociations']);
  if (o['powerCutsAtMs'] !== undefined) {
    out.powerCutsAtMs = c.array(`${field}.powerCutsAtMs`, o['powerCutsAtMs']).map((t, i) => c.number(`${field}.powerCutsAtMs[${i}]`, t, 0, YEAR));
  }
  const every = n('powerCutEveryMs', YEAR);
  if (every !== undefined && every > 0) out.powerCutEveryMs = every;
  const outage = n('powerOutageMs', DAY);
  if (outage !== undefined) out.powerOutageMs = outage;
  return out;
}

function parsePush(c: Checker, v: unknown, credentials: readonly ClientCredential[]): PushSettings {
  const o = c.object('push', v, ['to', 'client', 'lastGasp']);
  const to = o['to'] === undefined ? undefined : c.string('push.to', o['to'], /./, 'tcp://HOST:PORT, udp://HOST:PORT or HOST:PORT');
  if (to !== undefined && parsePushDestination(to) === undefined) c.fail('push.to', 'tcp://HOST:PORT, udp://HOST:PORT or HOST:PORT', to);
  const client = c.number('push.client', o['client'] ?? 1, 1, 127);
  if (!credentials.some((x) => x.client === client)) c.fail('push.client', 'a client address listed in credentials', client);
  const lastGasp = o['lastGasp'] === undefined ? false : c.boolean('push.lastGasp', o['lastGasp']);
  return { ...(to === undefined ? {} : { to }), client, lastGasp };
}

function parseFaultMap(c: Checker, field: string, v: unknown): Record<string, FaultSpec> {
  if (v === undefined) return {};
  const o = c.object(field, v);
  const out: Record<string, FaultSpec> = {};
  for (const [k, spec] of Object.entries(o)) out[k] = parseFaultSpec(c, `${field}.${k}`, spec);
  return out;
}

/** An HLS-SHA256 secret: 1 to 64 characters, or hex:HEX of 1 to 64 bytes. The value is never echoed. */
function parseSecret(c: Checker, field: string, v: unknown): string {
  const ok = typeof v === 'string' && (/^hex:/i.test(v) ? /^hex:(?:[0-9a-fA-F]{2}){1,64}$/i.test(v) : /^.{1,64}$/.test(v));
  if (!ok) c.fail(field, 'a secret of 1 to 64 characters, or hex:HEX (1 to 64 bytes), for auth "high-sha256"', typeof v === 'string' ? '(a string, not shown)' : v);
  return v;
}

function parseCredentials(c: Checker, v: unknown): ClientCredential[] {
  const list = c.array('credentials', v);
  const seen = new Set<number>();
  return list.map((item, i) => {
    const f = `credentials[${i}]`;
    const o = c.object(f, item, ['client', 'auth', 'password', 'secret', 'policy', 'blockKey', 'authKey', 'masterKey']);
    const client = c.number(`${f}.client`, o['client'], 1, 127);
    if (seen.has(client)) c.fail(`${f}.client`, 'a client address listed once', client);
    seen.add(client);
    const auth = c.oneOf<AuthMechanism>(`${f}.auth`, o['auth'], ['none', 'low', 'high', 'high-sha256']);
    if (auth !== 'high-sha256' && o['secret'] !== undefined) c.fail(`${f}.secret`, 'absent unless auth is "high-sha256"', '(not shown)');
    if (auth === 'low') {
      const password = c.string(`${f}.password`, o['password'], /^.{1,64}$/, 'a password of 1 to 64 characters for auth "low"');
      return { client, auth, password };
    }
    if (auth === 'high' || auth === 'high-sha256') {
      const key = (k: 'blockKey' | 'authKey' | 'masterKey'): { [K in typeof k]?: string } =>
        o[k] === undefined ? {} : { [k]: c.string(`${f}.${k}`, o[k], /^[0-9a-fA-F]{32}$/, 'a 128-bit key as 32 hex digits') };
      const policy = o['policy'] === undefined ? {} : { policy: c.oneOf<'none' | 'auth' | 'enc' | 'auth-enc'>(`${f}.policy`, o['policy'], ['none', 'auth', 'enc', 'auth-enc']) };
      const secret = auth === 'high-sha256' ? { secret: parseSecret(c, `${f}.secret`, o['secret']) } : {};
      return { client, auth, ...secret, ...policy, ...key('blockKey'), ...key('authKey'), ...key('masterKey') };
    }
    return { client, auth };
  });
}

/** Validates a raw configuration (file contents with flags merged on top). */
export function parseFleetConfig(raw: unknown, source = 'configuration'): FleetConfig {
  const c = new Checker(source, FLAG_OF);
  const o: Obj = c.object('', raw, TOP_FIELDS);
  const get = (k: string, dflt: unknown): unknown => (o[k] === undefined ? dflt : o[k]);
  const d = FLEET_DEFAULTS;

  const meters = c.number('meters', o['meters'], 1, MAX_METERS);
  const serialLines = c.number('serialLines', get('serialLines', d.serialLines), 0, 64);
  const tcpBasePort = c.optionalNumber('tcpBasePort', o['tcpBasePort'], 1, 65_535);
  if (serialLines === 0 && tcpBasePort === undefined) {
    throw new DcuError(ErrorCode.Config, `${source}: give serialLines (--serial-lines K) or tcpBasePort (--tcp BASEPORT), or both`, {
      context: { field: 'serialLines', source },
    });
  }
  if (serialLines > meters) c.fail('serialLines', `at most the number of meters (${meters})`, serialLines);
  if (tcpBasePort !== undefined && tcpBasePort + meters - 1 > 65_535) {
    c.fail('tcpBasePort', `at most ${65_536 - meters} so that ${meters} ports fit below 65536`, tcpBasePort);
  }
  const firstPhysicalAddress = c.number('firstPhysicalAddress', get('firstPhysicalAddress', d.firstPhysicalAddress), 1, MAX_PHYSICAL_ADDRESS);
  const perLine = serialLines > 0 ? Math.ceil(meters / serialLines) : 0;
  if (perLine > 0 && firstPhysicalAddress + perLine - 1 > MAX_PHYSICAL_ADDRESS) {
    c.fail('firstPhysicalAddress', `at most ${MAX_PHYSICAL_ADDRESS - perLine + 1} for ${perLine} meters per line`, firstPhysicalAddress);
  }

  const hdlcRaw = c.object('hdlc', get('hdlc', {}), ['maxInfoTx', 'maxInfoRx', 'windowTx', 'windowRx']);
  const hdlc: { -readonly [K in keyof HdlcParameters]?: number } = {};
  for (const k of ['maxInfoTx', 'maxInfoRx'] as const) {
    const v = c.optionalNumber(`hdlc.${k}`, hdlcRaw[k], 32, 2030);
    if (v !== undefined) hdlc[k] = v;
  }
  for (const k of ['windowTx', 'windowRx'] as const) {
    const v = c.optionalNumber(`hdlc.${k}`, hdlcRaw[k], 1, 7);
    if (v !== undefined) hdlc[k] = v;
  }

  const capturePeriodS = c.number('capturePeriodS', get('capturePeriodS', 900), 60, 86_400);
  if (86_400 % capturePeriodS !== 0) c.fail('capturePeriodS', 'a divisor of a day in seconds (60, 300, 900, 1800, 3600…)', capturePeriodS);
  const profileDepthDays = c.number('profileDepthDays', get('profileDepthDays', 60), 1, 366);
  const stateDir = o['stateDir'] === undefined ? undefined : c.string('stateDir', o['stateDir'], /./, 'a directory path');
  const ptyDir = o['ptyDir'] === undefined ? undefined : c.string('ptyDir', o['ptyDir'], /./, 'a directory path');
  const credentials = o['credentials'] === undefined ? DEFAULT_CREDENTIALS : parseCredentials(c, o['credentials']);
  const push = o['push'] === undefined ? undefined : parsePush(c, o['push'], credentials);
  return {
    meters,
    serialLines,
    ...(tcpBasePort === undefined ? {} : { tcpBasePort }),
    framing: c.oneOf<TcpFraming>('framing', get('framing', d.framing), ['wrapper', 'hdlc']),
    baud: c.number('baud', get('baud', d.baud), 0, 1_000_000),
    latencyMs: c.number('latencyMs', get('latencyMs', d.latencyMs), 0, 600_000),
    jitterMs: c.number('jitterMs', get('jitterMs', d.jitterMs), 0, 600_000),
    seed: c.number('seed', get('seed', d.seed), 0, 0xffffffff),
    speed: c.number('speed', get('speed', d.speed), 0.001, 100_000, false),
    serialPrefix: c.string('serialPrefix', get('serialPrefix', d.serialPrefix), /^[A-Za-z0-9_-]{0,16}$/, 'up to 16 letters, digits, - or _'),
    firstPhysicalAddress,
    logicalDevice: c.number('logicalDevice', get('logicalDevice', d.logicalDevice), 1, 0x3fff),
    credentials,
    ...(stateDir === undefined ? {} : { stateDir }),
    saveIntervalMs: c.number('saveIntervalMs', get('saveIntervalMs', d.saveIntervalMs), 0, DAY),
    ...(ptyDir === undefined ? {} : { ptyDir }),
    hdlc,
    inactivityTimeoutMs: c.number('inactivityTimeoutMs', get('inactivityTimeoutMs', d.inactivityTimeoutMs), 0, DAY),
    tcpMaxConnections: c.number('tcpMaxConnections', get('tcpMaxConnections', d.tcpMaxConnections), 1, 1024),
    tcpIdleTimeoutMs: c.number('tcpIdleTimeoutMs', get('tcpIdleTimeoutMs', d.tcpIdleTimeoutMs), 0, DAY),
    tcpMaxBufferedBytes: c.number('tcpMaxBufferedBytes', get('tcpMaxBufferedBytes', d.tcpMaxBufferedBytes), 1024, 1 << 30),
    capturePeriodS,
    profileDepthDays,
    ...(push === undefined ? {} : { push }),
    faults: o['faults'] === undefined ? {} : parseFaultSpec(c, 'faults', o['faults']),
    lineFaults: checkKeys(c, 'lineFaults', parseFaultMap(c, 'lineFaults', o['lineFaults']), (k) => isIndex(k, serialLines), `a line index 0..${serialLines - 1}`),
    meterFaults: checkKeys(
      c,
      'meterFaults',
      parseFaultMap(c, 'meterFaults', o['meterFaults']),
      (k) => isIndex(k, meters) || meterIndexOf(k, String(get('serialPrefix', d.serialPrefix)), meters) !== undefined,
      `a meter serial or index 0..${meters - 1}`,
    ),
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

function checkKeys<T>(c: Checker, field: string, map: Record<string, T>, ok: (k: string) => boolean, expected: string): Record<string, T> {
  for (const k of Object.keys(map)) if (!ok(k)) c.fail(`${field}.${k}`, `keyed by ${expected}`, k);
  return map;
}

/** Reads a JSON configuration file (not yet validated: merge flags, then parseFleetConfig). */
export function readFleetConfigFile(path: string): Obj {
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
  return raw as Obj;
}

/** The meter serial of index i: prefix + 6-digit zero-padded index (SIM000000). */
export function meterSerial(prefix: string, index: number): string {
  return `${prefix}${String(index).padStart(6, '0')}`;
}
