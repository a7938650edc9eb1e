/**
 * The HES side of the MQTT interface, for the `dcu hes` console: connect to the broker as
 * a HES would, send a command and collect its answers (MQTT 5 response topic + correlation
 * data, or `replyTo` / `correlationId` in the payload over 3.1.1), describe data messages,
 * and acknowledge them on `ack` the way docs/asyncapi.yaml asks (cumulative, no gaps).
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DcuError, ErrorCode } from '../protocol/common/errors';

export interface BrokerOptions {
  readonly broker: string;
  readonly protocol: '5' | '3.1.1';
  readonly usernameFile?: string;
  readonly passwordFile?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly connectTimeoutMs: number;
}

export type Answer = Record<string, unknown> & { type?: string; error?: { code: number; name: string; message: string } };

function file(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DcuError(ErrorCode.Usage, `cannot read the ${what} file ${path}: ${(e as Error).message}; check --${what}`, { cause: e });
  }
}
const trimmed = (b: Buffer): string => b.toString('utf8').replace(/[\r\n]+$/, '');

/** Connects once (no retry): a broker that is not there is exit 3 at once, not a hang. */
export async function connectHes(o: BrokerOptions, clientId = `dcu-hes-${randomBytes(4).toString('hex')}`): Promise<MqttClient> {
  if (/^[a-z]+:\/\/[^/]*@/i.test(o.broker)) throw new DcuError(ErrorCode.Usage, '--broker carries a user name or password: use --username-file / --password-file (a password on the command line is visible to every user of the box)');
  const options: IClientOptions = {
    protocolVersion: o.protocol === '3.1.1' ? 4 : 5,
    clientId,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: o.connectTimeoutMs,
    ...(o.usernameFile === undefined ? {} : { username: trimmed(file(o.usernameFile, 'username-file')) }),
    ...(o.passwordFile === undefined ? {} : { password: trimmed(file(o.passwordFile, 'password-file')) }),
    ...(o.ca === undefined ? {} : { ca: file(o.ca, 'ca') }),
    ...(o.cert === undefined ? {} : { cert: file(o.cert, 'cert') }),
    ...(o.key === undefined ? {} : { key: file(o.key, 'key') }),
  };
  try {
    return await mqtt.connectAsync(o.broker, options, false);
  } catch (e) {
    throw new DcuError(ErrorCode.TransportOpenFailed, `cannot connect to the broker ${o.broker}: ${e instanceof Error ? e.message : String(e)}; check --broker, the credentials files and --ca`, { cause: e });
  }
}

/** The last answer of a command: after it nothing more comes. */
export function isLastAnswer(name: string, a: Answer): boolean {
  if (a.type === 'done' || a.type === 'ok' || a.type === 'error') return true;
  return a.type === 'accepted' && (name === 'plan' || a.created === false);
}

/**
 * Sends `cmd/<name>` and calls `onAnswer` for each answer until the last one or `timeoutMs`
 * (then a transport/timeout DcuError). `expiresAt` is set so a command stuck in a queue is
 * not executed after the console gave up (MQTT 5: message expiry as well).
 */
export async function sendCommand(client: MqttClient, prefix: string, name: string, body: Record<string, unknown>, timeoutMs: number, onAnswer: (a: Answer) => void): Promise<void> {
  const v5 = client.options.protocolVersion === 5;
  const correlation = randomBytes(8).toString('hex');
  const replyTo = `hes/${client.options.clientId ?? 'dcu-hes'}/reply`;
  const expiresAt = new Date(Date.now() + timeoutMs).toISOString();
  const doc = { ...body, ...(body.expiresAt === undefined ? { expiresAt } : {}), ...(v5 ? {} : { replyTo, correlationId: correlation }) };
  await client.subscribeAsync(replyTo, { qos: 1 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      reject(new DcuError(ErrorCode.Timeout, `no ${name === 'read' ? 'final ' : ''}answer to ${name} within ${Math.round(timeoutMs / 1000)} s: is dcud connected to this broker (watch its status topic) and is --dcu right? A longer --timeout helps for slow meters`));
    }, timeoutMs);
    const onMessage = (topic: string, payload: Buffer, packet: mqtt.IPublishPacket): void => {
      if (topic !== replyTo) return;
      let a: Answer;
      try {
        a = JSON.parse(payload.toString('utf8')) as Answer;
      } catch {
        return;
      }
      const mine = v5 ? packet.properties?.correlationData?.toString() === correlation : a.correlationId === correlation;
      if (!mine) return;
      onAnswer(a);
      if (isLastAnswer(name, a)) {
        finish();
        resolve();
      }
    };
    const onClose = (): void => {
      finish();
      reject(new DcuError(ErrorCode.TransportVanished, `the broker closed the connection while waiting for the answers to ${name}`));
    };
    const finish = (): void => {
      clearTimeout(timer);
      client.off('message', onMessage);
      client.off('close', onClose);
    };
    client.on('message', onMessage);
    client.on('close', onClose);
    client
      .publishAsync(`${prefix}cmd/${name}`, JSON.stringify(doc), { qos: 1, ...(v5 ? { properties: { responseTopic: replyTo, correlationData: Buffer.from(correlation), messageExpiryInterval: Math.ceil(timeoutMs / 1000) } } : {}) })
      .catch((e: unknown) => {
        finish();
        reject(new DcuError(ErrorCode.TransportVanished, `could not publish ${prefix}cmd/${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
      });
  });
}

export interface DataMessage {
  readonly id?: string;
  readonly class?: string;
  readonly seq?: { first: number; last: number };
  readonly encoding?: string;
  readonly items?: unknown[];
  readonly state?: string;
  readonly reason?: string;
  readonly since?: string;
}

/** A payload as JSON (every encoding today is JSON text). */
export function decodePayload(payload: Buffer): DataMessage | undefined {
  try {
    return JSON.parse(payload.toString('utf8')) as DataMessage;
  } catch {
    return undefined;
  }
}

/** One line per message: topic, class, seq range, item count. */
export function describe(topic: string, m: DataMessage | undefined, bytes: number): string {
  if (m === undefined) return `${topic}  ${bytes} bytes (not JSON)`;
  if (m.seq !== undefined) return `${topic}  ${m.class ?? '?'}  seq ${m.seq.first}..${m.seq.last}  ${m.items?.length ?? 0} items  ${m.encoding ?? ''}  ${bytes} bytes  id ${m.id ?? '?'}`.replace(/ {2}( {2})/g, '$1');
  if (m.state !== undefined) return `${topic}  status ${m.state}${m.reason === undefined ? '' : ` (${m.reason})`}${m.since === undefined ? '' : ` since ${m.since}`}`;
  return `${topic}  ${bytes} bytes`;
}

/**
 * Cumulative application acks per stream: acks a seq only when every seq up to it has
 * arrived (from the first one this console saw); a re-sent message is acked again.
 */
export class AckTracker {
  private readonly upTo = new Map<string, number>();
  private readonly pending = new Map<string, { first: number; last: number }[]>();

  /** The seq to ack for `stream` after this message, or undefined (a gap before it). */
  received(stream: string, first: number, last: number): number | undefined {
    const have = this.upTo.get(stream) ?? first - 1;
    const ranges = [...(this.pending.get(stream) ?? []), { first, last }].sort((a, b) => a.first - b.first);
    let upTo = have;
    const left: { first: number; last: number }[] = [];
    for (const r of ranges) {
      if (r.first <= upTo + 1) upTo = Math.max(upTo, r.last);
      else left.push(r);
    }
    this.pending.set(stream, left);
    this.upTo.set(stream, upTo);
    return upTo >= 1 ? upTo : undefined;
  }
}
