/**
 * One MQTT session to the HES broker at a time, over mqtt.js 5 with its own reconnect and
 * store turned off: a lost connection fails every message in flight (the outbox still has
 * them) and a new client is made after a jittered, doubling pause on the injected clock.
 * Birth `{"state":"online"}` retained on `status` after each CONNACK; the will, and a clean
 * stop, put `{"state":"offline"}` there. A watchdog drops a connection that received
 * nothing for 1.25 × keepalive (checked every keepalive / 4: detected within 1.5 ×) — the
 * half-open link of a cellular APN that TCP alone notices only after many minutes.
 */
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Clock, TimerHandle } from '../../protocol/common/clock';
import type { Logger } from '../../protocol/common/log';
import type { Publisher, PublishProps } from './drain';
import { backoffMs } from './policy';

export interface SessionOptions {
  readonly url: string;
  readonly protocolVersion: 4 | 5;
  readonly clientId: string;
  readonly prefix: string;
  readonly username?: string;
  readonly password?: Buffer;
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer; readonly servername?: string };
  readonly keepaliveS: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMax: number;
  readonly sessionExpiryS: number;
  /** Fields of the birth message besides state/since. */
  readonly birth: Readonly<Record<string, unknown>>;
  /** Topics (below the prefix) to subscribe to, with their handler; a last level `+` matches any name. */
  readonly subscriptions: Readonly<Record<string, (payload: Buffer, packet: IPublishPacket, topic: string) => void>>;
  readonly random: () => number;
}

export interface SessionEvents {
  online(publisher: Publisher, receiveMaximum: number | undefined): void;
  offline(why: string): void;
}

export interface SessionHealth {
  connected: boolean;
  connects: number;
  disconnects: number;
  /** Why the last connection ended or an attempt failed. */
  lastError: string | null;
  /** Connections dropped by the keepalive watchdog (half-open). */
  silentDrops: number;
}

export class MqttSession {
  readonly health: SessionHealth = { connected: false, connects: 0, disconnects: 0, lastError: null, silentDrops: 0 };
  private client: MqttClient | undefined;
  private failures = 0;
  private retryTimer: TimerHandle | undefined;
  private watchdog: TimerHandle | undefined;
  private lastHeard = 0;
  private stopped = false;
  private readonly reasons = new Map<number, number | undefined>();

  constructor(
    private readonly opts: SessionOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly events: SessionEvents,
  ) {}

  start(): void {
    this.connect();
  }

  private status(state: 'online' | 'offline', reason?: string): Buffer {
    return Buffer.from(JSON.stringify({ state, since: new Date(this.clock.now()).toISOString(), ...(state === 'online' ? this.opts.birth : { reason }) }));
  }

  private connect(): void {
    if (this.stopped) return;
    const o = this.opts;
    const options: IClientOptions = {
      protocolVersion: o.protocolVersion,
      clientId: o.clientId,
      clean: o.sessionExpiryS === 0,
      keepalive: o.keepaliveS,
      connectTimeout: o.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      ...(o.username === undefined ? {} : { username: o.username }),
      ...(o.password === undefined ? {} : { password: o.password }),
      ...(o.protocolVersion === 5 ? { properties: { sessionExpiryInterval: o.sessionExpiryS } } : {}),
      will: {
        topic: `${o.prefix}status`,
        payload: Buffer.from(JSON.stringify({ state: 'offline', reason: 'connection lost' })),
        qos: 1,
        retain: true,
        ...(o.protocolVersion === 5 ? { properties: { contentType: 'application/json' } } : {}),
      },
      ...(o.tls === undefined ? {} : { ...o.tls, rejectUnauthorized: true }),
    };
    const client = mqtt.connect(o.url, options);
    this.client = client;
    let up = false;
    client.on('packetreceive', (p: Packet) => {
      this.lastHeard = this.clock.now();
      if (p.cmd === 'puback' && p.messageId !== undefined) this.reasons.set(p.messageId, p.reasonCode);
    });
    client.on('connect', (connack) => {
      if (this.client !== client) return;
      up = true;
      this.failures = 0;
      this.health.connected = true;
      this.health.connects++;
      this.lastHeard = this.clock.now();
      this.logger.info({ broker: redactUrl(o.url), protocol: o.protocolVersion === 5 ? '5' : '3.1.1', receiveMaximum: connack.properties?.receiveMaximum }, 'uplink connected');
      client.publish(`${o.prefix}status`, this.status('online'), { qos: 1, retain: true, ...(o.protocolVersion === 5 ? { properties: { contentType: 'application/json' } } : {}) });
      const topics = Object.keys(o.subscriptions).map((t) => `${o.prefix}${t}`);
      this.armWatchdog(client);
      const online = (): void => {
        if (this.client === client) this.events.online(this.publisher(client), connack.properties?.receiveMaximum);
      };
      // with appAck, sending starts once `ack` is subscribed: an ack must not fall between
      if (topics.length > 0) client.subscribe(topics, { qos: 1 }, online);
      else online();
    });
    client.on('message', (topic, payload, packet) => {
      if (!topic.startsWith(o.prefix)) return;
      const rel = topic.slice(o.prefix.length);
      const handler = o.subscriptions[rel] ?? o.subscriptions[rel.replace(/[^/]+$/, '+')];
      if (handler !== undefined) handler(payload, packet, rel);
    });
    client.on('error', (e) => {
      this.health.lastError = errorText(e);
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.dropped(client, up ? `connection closed${this.health.lastError === null ? '' : ` (${this.health.lastError})`}` : `cannot connect (${this.health.lastError ?? 'closed'})`);
    });
  }

  /**
   * An answer to a command (QoS 1, not through the outbox: the durable record of a result is
   * its data/results message). False when there is no connection now.
   */
  reply(topic: string, payload: Buffer, correlationData: Buffer | undefined): boolean {
    const client = this.client;
    if (client === undefined || !this.health.connected) return false;
    const properties = this.opts.protocolVersion === 5 ? { contentType: 'application/json', ...(correlationData === undefined ? {} : { correlationData }) } : undefined;
    client.publish(topic, payload, { qos: 1, ...(properties === undefined ? {} : { properties }) }, () => undefined);
    return true;
  }

  private publisher(client: MqttClient): Publisher {
    return {
      publish: (topic: string, payload: Buffer, props: PublishProps) =>
        new Promise<number | undefined>((resolve, reject) => {
          const properties = this.opts.protocolVersion === 5 ? { contentType: props.contentType, userProperties: { ...props.userProperties }, ...(props.messageExpiryS === undefined ? {} : { messageExpiryInterval: props.messageExpiryS }) } : undefined;
          client.publish(topic, payload, { qos: 1, ...(properties === undefined ? {} : { properties }) }, (err, packet) => {
            const id = (packet as { messageId?: number } | undefined)?.messageId;
            const code = id === undefined ? undefined : this.reasons.get(id);
            if (id !== undefined) this.reasons.delete(id);
            const withCode = (err as { code?: unknown } | undefined)?.code;
            if (typeof withCode === 'number') resolve(withCode);
            else if (err) reject(err);
            else resolve(code);
          });
        }),
    };
  }

  private armWatchdog(client: MqttClient): void {
    const period = Math.max(50, (this.opts.keepaliveS * 1000) / 4);
    const tick = (): void => {
      if (this.client !== client || !this.health.connected) return;
      if (this.clock.now() - this.lastHeard > 1.25 * this.opts.keepaliveS * 1000) {
        this.health.silentDrops++;
        this.health.lastError = `nothing heard from the broker for ${this.clock.now() - this.lastHeard} ms (keepalive ${this.opts.keepaliveS}s): half-open link`;
        this.dropped(client, this.health.lastError);
        return;
      }
      this.watchdog = this.clock.setTimer(period, tick);
    };
    this.watchdog = this.clock.setTimer(period, tick);
  }

  /** The connection is gone (or never came): fail what is in flight, try again later. */
  private dropped(client: MqttClient, why: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.watchdog?.cancel();
    if (this.health.connected) this.health.disconnects++;
    this.health.connected = false;
    this.health.lastError = why;
    client.removeAllListeners('close');
    client.on('error', () => undefined);
    client.end(true); // fails the callbacks of every message in flight: the outbox keeps them
    this.reasons.clear();
    this.events.offline(why);
    if (this.stopped) return;
    this.failures++;
    const pause = backoffMs(this.failures, this.opts.reconnectMinMs, this.opts.reconnectMax, this.opts.random);
    if (this.failures === 1 || this.failures % 10 === 0) this.logger.warn({ why, retryInMs: pause, attempts: this.failures }, 'uplink disconnected');
    this.retryTimer = this.clock.setTimer(pause, () => this.connect());
  }

  /** Clean stop: `{"state":"offline"}` retained on status, then DISCONNECT (no will). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retryTimer?.cancel();
    this.watchdog?.cancel();
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    client.removeAllListeners('close');
    // The guards below are real time on purpose: a stop must end even when the daemon runs
    // on a FakeClock that nobody advances any more (tests, virtual lines).
    if (client.connected) {
      await new Promise<void>((resolve) => {
        const guard = setTimeout(resolve, 2000);
        client.publish(`${this.opts.prefix}status`, this.status('offline', 'stopped'), { qos: 1, retain: true }, () => {
          clearTimeout(guard);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      const guard = setTimeout(() => client.end(true, {}, () => resolve()), 2000);
      client.end(false, {}, () => {
        clearTimeout(guard);
        resolve();
      });
    });
    this.health.connected = false;
  }
}

function errorText(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return `${e instanceof Error ? e.message : String(e)}${typeof code === 'string' ? ` [${code}]` : ''}`;
}

/** The broker URL without any user info (never logged). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
