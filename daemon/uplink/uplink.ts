/**
 * The HES uplink: the `mqtt` config section → an MQTT session (session.ts) feeding the
 * outbox drain (drain.ts). Credentials come from files named in the config and are never
 * logged; a URL carrying user info is refused. `health()` says whether it is connected, what
 * waits in the outbox and why the last send or connection failed.
 */
import type { IPublishPacket } from 'mqtt';
import { readRegularFileOrThrow } from '../../config/regular-file';
import type { MqttConfig } from '../../config/schema';
import { parseDuration } from '../../config/units';
import type { Clock } from '../../protocol/common/clock';
import { DcuError, ErrorCode, errorCodeName } from '../../protocol/common/errors';
import type { Logger } from '../../protocol/common/log';
import type { Db } from '../../storage/db';
import { OutboxDrain, type StreamBacklog } from '../../storage/outbox';
import { Drain, type DrainCounters } from './drain';
import { MqttSession, redactUrl, type SessionHealth } from './session';
import { replyTopicProblem } from '../input-limits';

/** What handles `cmd/<name>` (daemon/hes/commands.ts). */
export interface CommandHandler {
  handle(name: string, payload: Uint8Array, reply: (doc: Record<string, unknown>, via: { readonly replyTo?: string; readonly correlationId?: string }) => void): void;
}

export interface UplinkDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  /** HES commands: subscribed on `cmd/+` when given. */
  readonly commands?: CommandHandler;
  readonly random?: () => number;
  /** The store's incarnation (envelope ids); a fixed one for stores opened without the start-up checks. */
  readonly incarnation?: string;
  /** Before a message is published: the high-water file covers its last seq. */
  readonly beforeSend?: (stream: string, last: number) => void;
  /** The one row sent before anything else (the store-corrupt alarm after a rebuild). */
  readonly first?: { readonly stream: string; readonly seq: number };
}

export interface UplinkHealth {
  readonly broker: string;
  readonly session: SessionHealth;
  readonly drain: DrainCounters & { readonly inFlight: number };
  readonly backlog: readonly StreamBacklog[];
}

export interface Uplink {
  /** New rows are in the outbox (the drain also looks on its own every second). */
  kick(): void;
  health(): UplinkHealth;
  /** Clean stop: offline status, disconnect. */
  stop(): Promise<void>;
}

/** The incarnation the store holds (migration 014). */
export function storeIncarnation(db: Db): string {
  return (db.prepare('SELECT incarnation FROM store_identity').get() as { incarnation: string } | undefined)?.incarnation ?? '00000000';
}

function ms(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : (parseDuration(text) ?? fallback);
}

/** Credentials and TLS PEM files: small regular files (a FIFO or a device is refused, never waited on). */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** `key`: the configuration key that named the file (mqtt.passwordFile, mqtt.tls.ca…). */
function readSecretFile(path: string, key: string): Buffer {
  return readRegularFileOrThrow(path, MAX_SECRET_FILE_BYTES, 'credentials or PEM file', (problem) => new DcuError(ErrorCode.Config, `mqtt.${key}: ${path} ${problem}; check mqtt.${key} and the file's permissions`, { context: { path } }));
}

function trimmed(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && (b[end - 1] === 0x0a || b[end - 1] === 0x0d)) end--;
  return b.subarray(0, end);
}

export function startUplink(dcuId: string, config: MqttConfig, deps: UplinkDeps): Uplink {
  if (/^[a-z]+:\/\/[^/]*@/i.test(config.url)) {
    throw new DcuError(ErrorCode.Config, `mqtt.url carries a user name or password (${redactUrl(config.url)}): put them in the files named by mqtt.usernameFile / mqtt.passwordFile`);
  }
  const random = deps.random ?? Math.random;
  const logger = deps.logger.child({ part: 'uplink' });
  const prefix = config.topicPrefix ?? `dcu/${dcuId}/`;
  const tls = config.tls;
  const outbox = new OutboxDrain(deps.db);
  const drain = new Drain(outbox, deps.clock, logger, {
    dcuId,
    incarnation: deps.incarnation ?? storeIncarnation(deps.db),
    ...(deps.beforeSend === undefined ? {} : { beforeSend: deps.beforeSend }),
    ...(deps.first === undefined ? {} : { first: deps.first }),
    prefix,
    window: config.window,
    maxMessageBytes: config.maxMessageBytes,
    ackTimeoutMs: ms(config.ackTimeout, 30_000),
    retryMinMs: ms(config.retryMin, 5_000),
    retryMaxMs: ms(config.retryMax, 600_000),
    appAck: config.appAck,
    appAckTimeoutMs: ms(config.appAckTimeout, 300_000),
    encoding: config.encoding,
    deflate: config.deflate ?? [],
    ...(config.messageExpiry === undefined ? {} : { messageExpiryS: Math.ceil(ms(config.messageExpiry, 0) / 1000) }),
    pollMs: 1_000,
    random,
  });
  const session = new MqttSession(
    {
      url: config.url,
      protocolVersion: config.protocol === '3.1.1' ? 4 : 5,
      clientId: config.clientId ?? `dcu-${dcuId}`,
      prefix,
      ...(config.usernameFile === undefined ? {} : { username: trimmed(readSecretFile(config.usernameFile, 'usernameFile')).toString('utf8') }),
      ...(config.passwordFile === undefined ? {} : { password: trimmed(readSecretFile(config.passwordFile, 'passwordFile')) }),
      ...(tls === undefined
        ? {}
        : {
            tls: {
              ...(tls.ca === undefined ? {} : { ca: readSecretFile(tls.ca, 'tls.ca') }),
              ...(tls.cert === undefined ? {} : { cert: readSecretFile(tls.cert, 'tls.cert') }),
              ...(tls.key === undefined ? {} : { key: readSecretFile(tls.key, 'tls.key') }),
              ...(tls.servername === undefined ? {} : { servername: tls.servername }),
            },
          }),
      keepaliveS: Math.max(1, Math.round(ms(config.keepalive, 60_000) / 1000)),
      connectTimeoutMs: ms(config.connectTimeout, 30_000),
      reconnectMinMs: ms(config.reconnectMin, 1_000),
      reconnectMax: ms(config.reconnectMax, 300_000),
      sessionExpiryS: Math.round(ms(config.sessionExpiry, 0) / 1000),
      birth: { id: dcuId, protocol: config.protocol, encoding: config.encoding, appAck: config.appAck },
      subscriptions: {
        ...(config.appAck ? { ack: (payload: Buffer) => onAck(payload) } : {}),
        ...(deps.commands === undefined ? {} : { 'cmd/+': (payload: Buffer, packet: IPublishPacket, topic: string) => onCommand(payload, packet, topic) }),
      },
      random,
    },
    deps.clock,
    logger,
    { online: (publisher, receiveMaximum) => drain.online(publisher, receiveMaximum), offline: () => drain.offline() },
  );

  /** `ack`: `{"stream": "load-profile", "seq": 42}` or an array of them: everything up to seq is at the HES. */
  function onAck(payload: Buffer): void {
    let acks: unknown;
    try {
      acks = JSON.parse(payload.toString('utf8'));
    } catch {
      logger.warn({ bytes: payload.length }, 'ack ignored: not JSON (expected {"stream": NAME, "seq": N})');
      return;
    }
    for (const a of Array.isArray(acks) ? acks : [acks]) {
      const { stream, seq } = (a ?? {}) as { stream?: unknown; seq?: unknown };
      if (typeof stream === 'string' && Number.isSafeInteger(seq)) drain.appAck(stream, seq as number);
      else logger.warn({ ack: JSON.stringify(a).slice(0, 200) }, 'ack ignored: expected {"stream": NAME, "seq": N}');
    }
  }

  /**
   * `cmd/<name>`: answers go to the MQTT 5 response topic with its correlation data, else to
   * the payload's `replyTo` (MQTT 3.1.1) with its `correlationId`, else to `resp/<name>`.
   */
  function onCommand(payload: Buffer, packet: IPublishPacket, topic: string): void {
    const name = topic.slice('cmd/'.length);
    const responseTopic = packet.properties?.responseTopic;
    const correlation = packet.properties?.correlationData;
    const bad = responseTopic === undefined ? undefined : replyTopicProblem(responseTopic, prefix);
    if (bad !== undefined) {
      // Not executed; the refusal goes to resp/<name>, never to the refused topic.
      logger.warn({ command: name, err: bad }, 'HES command refused');
      const doc = { command: name, type: 'error', error: { code: ErrorCode.Usage, name: errorCodeName(ErrorCode.Usage), message: `command ${name}: ${bad} (MQTT 5 response topic)` } };
      session.reply(`${prefix}resp/${name}`, Buffer.from(JSON.stringify(doc)), correlation);
      return;
    }
    deps.commands?.handle(name, payload, (doc, via) => {
      const to = responseTopic ?? via.replyTo ?? `${prefix}resp/${name}`;
      if (!session.reply(to, Buffer.from(JSON.stringify(doc)), correlation)) logger.warn({ command: name, type: doc.type }, 'command answer not sent: the uplink is down (results stay on data/results)');
    });
  }

  session.start();
  return {
    kick: () => drain.kick(),
    health: () => ({ broker: redactUrl(config.url), session: { ...session.health }, drain: { ...drain.counters, kept: { ...drain.counters.kept }, inFlight: drain.inFlight }, backlog: outbox.backlog() }),
    stop: async () => {
      drain.stop();
      await session.stop();
    },
  };
}
