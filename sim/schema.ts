/**
 * The simulator's configuration as one JSON Schema (TypeBox), validated with ajv like the
 * concentrator's (config/problems.ts), from which the FleetConfig type derives. Numbers may
 * come as text (command-line flags): ajv coerces them. Rules a schema cannot say (ranges that
 * depend on other fields, credentials per mechanism, fault-map keys) are in sim/config.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TCP_LIMIT_DEFAULTS } from './network';

const strict = { additionalProperties: false } as const;
const DAY = 86_400_000;
const YEAR = 366 * DAY;
const ISO_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$';
export const MAX_METERS = 65_535;
/** Largest physical address a 4-byte HDLC server address carries. */
export const MAX_PHYSICAL_ADDRESS = 0x3fff;

const Int = (minimum: number, maximum: number, description: string, def?: number) =>
  Type.Integer({ minimum, maximum, description, ...(def === undefined ? {} : { default: def }) });
const Key128 = (description: string) => Type.String({ pattern: '^[0-9a-fA-F]{32}$', description: `${description} (a 128-bit key as 32 hex digits)` });

export const SilentWindowSchema = Type.Object(
  { fromMs: Int(0, YEAR, 'silent from (ms since start)'), toMs: Int(0, YEAR, 'silent until (ms since start)') },
  strict,
);
export const SilentRecurringSchema = Type.Object(
  {
    everyMs: Int(1, YEAR, 'a silent period every this many ms'),
    forMs: Int(1, YEAR, 'each silent period lasts this long'),
    offsetMs: Type.Optional(Int(0, YEAR, 'the first one starts here (default everyMs - forMs)')),
  },
  strict,
);

export const FaultSpecSchema = Type.Object(
  {
    lossProbability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'probability that a frame is lost, each direction' })),
    corruptProbability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'probability that an answer frame is corrupted' })),
    extraLatencyMs: Type.Optional(Int(0, 600_000, 'added to every answer turnaround')),
    silent: Type.Optional(Type.Array(Type.Union([SilentWindowSchema, SilentRecurringSchema]), { description: 'periods the meter does not answer' })),
    rejectAssociations: Type.Optional(Type.Boolean({ description: 'the meter refuses every association' })),
    powerCutsAtMs: Type.Optional(Type.Array(Int(0, YEAR, 'a power cut at this time (ms since start)'))),
    powerCutEveryMs: Type.Optional(Int(0, YEAR, 'a power cut every this many ms (0 = none)')),
    powerOutageMs: Type.Optional(Int(0, DAY, 'silent this long after a power cut')),
  },
  strict,
);

export const CredentialSchema = Type.Object(
  {
    client: Int(1, 127, 'client SAP'),
    auth: Type.Union([Type.Literal('none'), Type.Literal('low'), Type.Literal('high'), Type.Literal('high-sha256')], { description: 'authentication mechanism' }),
    password: Type.Optional(Type.String({ description: 'LLS password (auth "low")' })),
    secret: Type.Optional(Type.String({ description: 'HLS-SHA256 secret (auth "high-sha256")' })),
    policy: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('auth'), Type.Literal('enc'), Type.Literal('auth-enc')], { description: 'ciphering policy' })),
    blockKey: Type.Optional(Key128('encryption key')),
    authKey: Type.Optional(Key128('authentication key')),
    masterKey: Type.Optional(Key128('master key')),
  },
  strict,
);

/** From a moment on, the meter at an address is another meter: new serial number, fresh identity. */
export const ReplacementSchema = Type.Object(
  {
    meter: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })], { description: 'the meter replaced: fleet index or serial number' }),
    at: Type.Optional(Type.String({ pattern: ISO_PATTERN, description: 'when, on the meter clock (ISO 8601 with Z or an offset)' })),
    afterS: Type.Optional(Type.Number({ minimum: 0, maximum: YEAR / 1000, description: 'when: seconds after the fleet starts' })),
    serial: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$', description: 'serial number of the new meter' }),
    firmwareId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'active firmware identifier of the new meter' })),
  },
  strict,
);

export const FleetConfigSchema = Type.Object(
  {
    meters: Int(1, MAX_METERS, 'number of meters'),
    serialLines: Int(0, 64, 'serial lines (pty pairs)', 0),
    tcpBasePort: Type.Optional(Int(1, 65_535, 'first TCP port (meter i listens on base + i)')),
    framing: Type.Union([Type.Literal('wrapper'), Type.Literal('hdlc')], { default: 'wrapper', description: 'framing on TCP' }),
    baud: Int(0, 1_000_000, 'emulated serial speed (0 = unpaced)', 9600),
    latencyMs: Int(0, 600_000, 'turnaround before each answer', 20),
    jitterMs: Int(0, 600_000, 'random extra turnaround', 5),
    seed: Int(0, 0xffffffff, 'seed for jitter, faults and values', 1),
    speed: Type.Number({ minimum: 0.001, maximum: 100_000, default: 1, description: 'meter time runs this many times faster than real time' }),
    serialPrefix: Type.String({ pattern: '^[A-Za-z0-9_-]{0,16}$', default: 'SIM', description: 'serial number prefix: up to 16 letters, digits, - or _' }),
    firstPhysicalAddress: Int(1, MAX_PHYSICAL_ADDRESS, 'HDLC physical address of the first meter of each line', 16),
    logicalDevice: Int(1, 0x3fff, 'HDLC logical device address', 1),
    credentials: Type.Optional(Type.Array(CredentialSchema, { description: 'clients the meters accept' })),
    stateDir: Type.Optional(Type.String({ minLength: 1, description: 'state directory' })),
    saveIntervalMs: Int(0, DAY, 'periodic state save (0 = only on exit)', 60_000),
    ptyDir: Type.Optional(Type.String({ minLength: 1, description: 'where the pty links are made' })),
    hdlc: Type.Object(
      {
        maxInfoTx: Type.Optional(Int(32, 2030, 'HDLC max information field, transmit')),
        maxInfoRx: Type.Optional(Int(32, 2030, 'HDLC max information field, receive')),
        windowTx: Type.Optional(Int(1, 7, 'HDLC window, transmit')),
        windowRx: Type.Optional(Int(1, 7, 'HDLC window, receive')),
      },
      { ...strict, default: {} },
    ),
    inactivityTimeoutMs: Int(0, DAY, 'HDLC inactivity timeout', 120_000),
    tcpMaxConnections: Int(1, 1024, 'TCP connections at once per meter', TCP_LIMIT_DEFAULTS.maxConnections),
    tcpIdleTimeoutMs: Int(0, DAY, 'TCP idle timeout (0 = never)', TCP_LIMIT_DEFAULTS.idleTimeoutMs),
    tcpMaxBufferedBytes: Int(1024, 1 << 30, 'TCP answer bytes waiting for a client', TCP_LIMIT_DEFAULTS.maxBufferedBytes),
    faults: Type.Object(FaultSpecSchema.properties, { ...strict, default: {} }),
    lineFaults: Type.Record(Type.String(), FaultSpecSchema, { default: {}, description: 'faults by line index' }),
    meterFaults: Type.Record(Type.String(), FaultSpecSchema, { default: {}, description: 'faults by meter serial or index' }),
    capturePeriodS: Int(60, 86_400, 'load profile capture period, seconds', 900),
    profileDepthDays: Int(1, 366, 'days of load profile every meter holds', 60),
    replacements: Type.Array(ReplacementSchema, { default: [], description: 'meters replaced at the same address' }),
    push: Type.Optional(
      Type.Object(
        {
          to: Type.Optional(Type.String({ minLength: 1, description: 'where TCP meters push: tcp://HOST:PORT, udp://HOST:PORT or HOST:PORT' })),
          client: Int(1, 127, 'client address the pushes are for (its credential decides ciphering)', 1),
          lastGasp: Type.Boolean({ default: false, description: 'also push on power down' }),
        },
        { ...strict, description: 'meters push alarms (serial lines: UI frames on the bus; TCP meters: to push.to)' },
      ),
    ),
  },
  strict,
);

/** The validated document, defaults filled in (credentials still optional). */
export type FleetConfigDoc = Static<typeof FleetConfigSchema>;
export type ReplacementDoc = Static<typeof ReplacementSchema>;
