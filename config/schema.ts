/**
 * The concentrator's configuration as one JSON Schema (TypeBox), from which the TypeScript
 * types derive: one source for validation (ajv), types, defaults and the generated
 * reference in docs/config.md. Every object rejects unknown keys, so a typo is an error
 * and not a silently ignored setting. Durations are texts like "15m" or "7d", sizes like "2GB".
 */
import { Type, type Static } from '@sinclair/typebox';
import { KEY_NAME_PATTERN } from './key-names';
import { DURATION_PATTERN, SIZE_PATTERN } from './units';

const Duration = (description: string, def?: string) =>
  Type.String({ pattern: DURATION_PATTERN, description: `${description} (duration: 90s, 15m, 2h, 7d…)`, ...(def === undefined ? {} : { default: def }) });

const Hex = (bytes: number, description: string) =>
  Type.String({ pattern: `^([0-9A-Fa-f]{2}){${bytes}}$`, description: `${description} (${bytes} bytes in hex)` });

const strict = { additionalProperties: false } as const;

/** HOST:PORT, IPv6 hosts in brackets. */
const HOST_PORT = '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\s]+):[0-9]{1,5}$';

export const BAUD_RATES = [300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

export const SerialLineSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'serial device, e.g. /dev/ttyUSB0' }),
    baud: Type.Union(BAUD_RATES.map((b) => Type.Literal(b)), { default: 9600, description: 'baud rate' }),
    framing: Type.Literal('hdlc', { default: 'hdlc', description: 'HDLC (IEC 62056-46) on serial lines' }),
    modeE: Type.Boolean({ default: false, description: 'open with IEC 62056-21 mode E (optical probe)' }),
  },
  strict,
);

export const IpLineSchema = Type.Object(
  {
    framing: Type.Union([Type.Literal('wrapper'), Type.Literal('hdlc')], { default: 'wrapper', description: 'IEC 62056-47 wrapper, or HDLC over TCP (terminal servers)' }),
    concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'meters read in parallel on this line' }),
  },
  strict,
);

/** Largest HDLC physical address (4-byte server addresses: 14 bits, 0x3FFE/0x3FFF reserved). */
export const MAX_PHYSICAL_ADDRESS = 0x3ffd;

export const DiscoverySchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'scan this serial line for meters (background priority, yields between addresses)' }),
    from: Type.Integer({ minimum: 1, maximum: MAX_PHYSICAL_ADDRESS, default: 16, description: 'first HDLC physical address probed' }),
    to: Type.Integer({ minimum: 1, maximum: MAX_PHYSICAL_ADDRESS, default: 127, description: 'last HDLC physical address probed' }),
    every: Duration('how often the line is scanned', '1d'),
    client: Type.Integer({ minimum: 1, maximum: 127, default: 16, description: 'client SAP of the probes (16: public client, no authentication)' }),
    logical: Type.Integer({ minimum: 0, maximum: MAX_PHYSICAL_ADDRESS, default: 1, description: 'logical device address probed' }),
    timeout: Type.Optional(Duration('answer timeout of one probe (default: the line timeout)')),
  },
  { ...strict, description: 'opt-in discovery of meters not in the registry (serial lines only); found meters become events, not registrations' },
);

export const LineSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$', description: 'line name, referenced by meters' }),
    serial: Type.Optional({ ...SerialLineSchema, description: 'a serial line: RS-485 adapter, PLC/RF modem, optical probe' }),
    tcp: Type.Optional({ ...IpLineSchema, description: 'meters over TCP (HOST:PORT per meter)' }),
    udp: Type.Optional({ ...IpLineSchema, description: 'meters over UDP (HOST:PORT per meter)' }),
    timeout: Duration('per-frame answer timeout', '3s'),
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 3, description: 'link retransmissions before giving up' }),
    discovery: Type.Optional(DiscoverySchema),
  },
  { ...strict, description: 'a communication line: exactly one of serial, tcp, udp' },
);

export const AUTH_MECHANISMS = ['none', 'low', 'high-gmac', 'high-sha256'] as const;

export const KeysSchema = Type.Union(
  [
    Type.Object({ file: Type.String({ minLength: 1, description: 'JSON file {"blockKey": HEX, "authKey": HEX} (configuration file only: remote commands never name files)' }) }, strict),
    Type.Object({ name: Type.String({ pattern: KEY_NAME_PATTERN, description: 'key file <keysDir>/NAME.json, by name (a file name, never a path)' }) }, strict),
    Type.Object({ blockKey: Hex(16, 'global unicast encryption key'), authKey: Hex(16, 'authentication key') }, strict),
  ],
  { description: 'keys: a key file by path (configuration) or by name in keysDir, or inline' },
);

export const MeterSchema = Type.Object(
  {
    serial: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$', description: 'meter serial number (identity)' }),
    line: Type.String({ description: 'name of the line the meter is on' }),
    address: Type.String({ minLength: 1, description: 'serial: LOGICAL[/PHYSICAL] HDLC address; tcp/udp: HOST:PORT' }),
    client: Type.Integer({ minimum: 1, maximum: 127, default: 16, description: 'client SAP (16 public, 17 reading LLS, 1 management)' }),
    auth: Type.Union(AUTH_MECHANISMS.map((a) => Type.Literal(a)), { default: 'none', description: 'authentication mechanism' }),
    password: Type.Optional(Type.String({ description: 'LLS password (auth: low)' })),
    secret: Type.Optional(Type.String({ description: 'HLS-SHA256 secret (auth: high-sha256)' })),
    systemTitle: Type.Optional(Hex(8, 'our system title (HLS)')),
    meterSystemTitle: Type.Optional(Hex(8, "the meter's own system title: identifies its ciphered pushes")),
    keys: Type.Optional(KeysSchema),
    security: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('auth'), Type.Literal('enc'), Type.Literal('auth-enc')], { description: 'APDU protection (default auth-enc with HLS)' })),
    gbt: Type.Boolean({ default: true, description: 'propose general block transfer' }),
    deviationSign: Type.Union([Type.Literal('blue-book'), Type.Literal('inverted')], { default: 'blue-book', description: 'sign convention of the clock deviation this meter uses' }),
  },
  strict,
);

export const DATA_CLASSES = ['load-profile', 'daily', 'billing', 'events', 'alarms', 'registers', 'clock'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

export const CollectionPlanSchema = Type.Object(
  {
    every: Duration('how often to collect'),
    backfill: Duration('how far back a new meter is collected', '7d'),
    enabled: Type.Boolean({ default: true }),
    resetAfterRead: Type.Optional(Type.Boolean({ description: 'alarms only: write the alarm register back cleared after the bits were read and stored (needs a client allowed to write it)' })),
  },
  strict,
);

export const CollectionSchema = Type.Partial(
  Type.Object({
    'load-profile': CollectionPlanSchema,
    daily: CollectionPlanSchema,
    billing: CollectionPlanSchema,
    events: CollectionPlanSchema,
    alarms: CollectionPlanSchema,
    registers: CollectionPlanSchema,
    clock: CollectionPlanSchema,
  } satisfies Record<DataClass, typeof CollectionPlanSchema>),
  { ...strict, default: {}, description: 'per data class: interval, backfill, enabled' },
);

const Keep = (description: string, def: string) =>
  Type.Union([Type.String({ pattern: DURATION_PATTERN }), Type.Literal('never')], { default: def, description: `${description} (duration, or never)` });

/** How long data the HES already has stays on the box; unsent data is never pruned by age. */
export const RetentionSchema = Type.Object(
  {
    'load-profile': Keep('load-profile rows, by capture time', '93d'),
    daily: Keep('daily values, by capture time', '400d'),
    billing: Keep('billing (monthly) values, by capture time', '1096d'),
    events: Keep("the meters' event logs and the concentrator's events", '366d'),
    alarms: Keep('cleared alarms, from when they cleared (open alarms stay)', '366d'),
    registers: Keep('register readings, by read time', '93d'),
    jobs: Keep('ended jobs (reads, plans) and their per-meter results, from when they ended', '93d'),
  },
  { ...strict, default: {}, description: 'retention per data class of what the HES already has; unsent data is never pruned by age (see docs/storage.md)' },
);

export const MQTT_ENCODINGS = ['compact', 'json'] as const;

export const MqttSchema = Type.Object(
  {
    url: Type.String({ pattern: '^(mqtts?|wss?|tcp|ssl)://', description: 'HES broker URL' }),
    protocol: Type.Union([Type.Literal('5'), Type.Literal('3.1.1')], { default: '5', description: 'MQTT version' }),
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'MQTT client id (default dcu-<id>)' })),
    topicPrefix: Type.Optional(Type.String({ pattern: '^[^#+]*/$', description: 'topic prefix, ending in / (default dcu/<id>/)' })),
    usernameFile: Type.Optional(Type.String({ minLength: 1, description: 'file holding the MQTT user name (never put it in the config)' })),
    passwordFile: Type.Optional(Type.String({ minLength: 1, description: 'file holding the MQTT password (never put it in the config)' })),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Type.Optional(Type.String({ minLength: 1, description: 'CA certificate file (PEM) that signed the broker certificate' })),
          cert: Type.Optional(Type.String({ minLength: 1, description: 'client certificate file (PEM)' })),
          key: Type.Optional(Type.String({ minLength: 1, description: 'client private key file (PEM)' })),
          servername: Type.Optional(Type.String({ minLength: 1, description: 'name expected in the broker certificate (default: the URL host)' })),
        },
        { ...strict, description: 'TLS for mqtts:// (files, read at start)' },
      ),
    ),
    keepalive: Duration('MQTT keepalive; a silent connection is dropped after 1.5 times this', '60s'),
    connectTimeout: Duration('give up a connection attempt after', '30s'),
    reconnectMin: Duration('first pause before a reconnect (doubles, jittered)', '1s'),
    reconnectMax: Duration('longest pause between reconnects', '5m'),
    sessionExpiry: Duration('MQTT 5 session expiry (0s: clean session each connect)', '0s'),
    messageExpiry: Type.Optional(Duration('MQTT 5 message expiry of data messages the broker holds for an absent HES (unset: never)')),
    window: Type.Integer({ minimum: 1, maximum: 1024, default: 16, description: 'messages in flight at once (capped by the broker receive maximum)' }),
    maxMessageBytes: Type.Integer({ minimum: 1024, maximum: 16_777_216, default: 262_144, description: 'outbox messages are batched into one MQTT message up to this payload size' }),
    ackTimeout: Duration('a message without PUBACK this long is failed and retried', '30s'),
    retryMin: Duration('first pause before re-sending a refused message (doubles, jittered)', '5s'),
    retryMax: Duration('longest pause before re-sending a refused message', '10m'),
    healthEvery: Type.Optional(Duration('how often the health snapshot goes to data/health (default 15m; 0s: never)')),
    appAck: Type.Boolean({ default: false, description: 'delete an outbox message only after the HES acknowledged it on the ack topic' }),
    appAckTimeout: Duration('with appAck: re-send what the HES has not acknowledged after', '5m'),
    encoding: Type.Union(MQTT_ENCODINGS.map((e) => Type.Literal(e)), { default: 'compact', description: 'data payload: compact (columnar profile rows, start + period) or json (rows as stored)' }),
    deflate: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, description: 'streams (data classes) whose payloads are sent deflated (raw DEFLATE, RFC 1951), announced by the MQTT 5 user property contentEncoding: deflate; MQTT 5 only' })),
  },
  { ...strict, description: 'uplink to the HES (absent: no uplink, data stays in the outbox)' },
);

export const ConfigSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'concentrator id (MQTT topic prefix dcu/<id>/)' }),
    stateDir: Type.String({ minLength: 1, default: '/var/lib/dcu', description: 'state directory (SQLite store)' }),
    keysDir: Type.String({ minLength: 1, default: '/etc/dcu/keys', description: 'directory of named key files: meters[].keys: { name: NAME } is <keysDir>/NAME.json (how the HES and the API refer to keys on the box)' }),
    stateDirGroup: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$', description: 'group (name or number) given the state directory, mode 2750, so its members reach the sockets; without it a directory dcud creates is 0700 (files are 0600 either way)' })),
    secrets: Type.Object(
      {
        kekFile: Type.Optional(Type.String({ minLength: 1, description: 'file holding the key-encryption key (64 hex digits or 32 bytes) that seals meter passwords and keys in the store; a systemd credential dcu-kek ($CREDENTIALS_DIRECTORY) comes first; neither: dcud generates <stateDir>/dcu-kek' })),
      },
      { ...strict, default: {}, description: 'secrets at rest (README, "Secrets at rest")' },
    ),
    timeZone: Type.Optional(Type.String({ minLength: 1, description: "IANA time zone of job time windows, e.g. Europe/Madrid (default: the system's)" })),
    lines: Type.Array(LineSchema, { default: [], description: 'communication lines' }),
    meters: Type.Array(MeterSchema, { default: [], description: 'seed list applied at start; the registry is SQLite' }),
    collection: CollectionSchema,
    clock: Type.Object(
      {
        syncAbove: Duration('synchronise a meter clock drifting more than this', '5m'),
        eventAbove: Duration('above this drift, do not synchronise: raise an event for the HES', '10m'),
      },
      { ...strict, default: {} },
    ),
    registry: Type.Object(
      { unreachableAfter: Duration('a meter silent this long is reported unreachable', '72h') },
      { ...strict, default: {} },
    ),
    storage: Type.Object(
      {
        maxBytes: Type.Union([Type.String({ pattern: SIZE_PATTERN }), Type.Integer({ minimum: 0 })], { default: '2GB', description: 'bound of the SQLite file (2GB, 512MiB…)' }),
        retention: RetentionSchema,
        pruneEvery: Duration('how often data past its retention is pruned (small batches, then an incremental vacuum)', '1h'),
      },
      { ...strict, default: {} },
    ),
    mqtt: Type.Optional(MqttSchema),
    api: Type.Optional(
      Type.Object(
        {
          listen: Type.String({ pattern: HOST_PORT, description: 'HOST:PORT of the local HTTPS API, e.g. 0.0.0.0:8443 (the technician port); the Unix socket <stateDir>/dcu-api.sock is always open' }),
          cert: Type.Optional(Type.String({ minLength: 1, description: 'PEM certificate file (default: a self-signed one generated on first start in <stateDir>/api-cert.pem)' })),
          key: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key file of cert' })),
        },
        { ...strict, description: 'the local API (HTTPS + Unix socket): users with tokens, roles viewer/operator/admin, writes audited' },
      ),
    ),
    firmware: Type.Object(
      {
        publicKeys: Type.Array(
          Type.Object(
            {
              id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'key id a manifest names in keyId' }),
              type: Type.Union([Type.Literal('ed25519'), Type.Literal('ecdsa-p256')], { description: 'signature algorithm (ECDSA P-256 with SHA-256, DER signature)' }),
              key: Type.String({ minLength: 1, description: 'the public key, PEM (SPKI)' }),
            },
            strict,
          ),
          { default: [], description: "meter vendors' public keys that sign firmware images" },
        ),
        requireSignature: Type.Boolean({ default: false, description: 'refuse an image whose manifest has no valid signature by a configured key' }),
      },
      { ...strict, default: {}, description: 'firmware images and update campaigns (docs: README, firmware)' },
    ),
    push: Type.Object(
      {
        tcp: Type.Optional(Type.String({ pattern: HOST_PORT, description: 'HOST:PORT where meters push over TCP (wrapper), e.g. 0.0.0.0:4059' })),
        udp: Type.Optional(Type.String({ pattern: HOST_PORT, description: 'HOST:PORT where meters push over UDP (wrapper)' })),
        serial: Type.Boolean({ default: true, description: 'listen for unsolicited frames (UI frames with a push) on serial lines' }),
      },
      { ...strict, default: {}, description: 'meters speak first: data-/event-notifications become alarms at once' },
    ),
  },
  strict,
);

export type Config = Static<typeof ConfigSchema>;
export type LineConfig = Static<typeof LineSchema>;
export type MeterConfig = Static<typeof MeterSchema>;
export type CollectionPlan = Static<typeof CollectionPlanSchema>;
export type RetentionConfig = Static<typeof RetentionSchema>;
export type MqttConfig = Static<typeof MqttSchema>;
