/**
 * Meters speak first: when a simulated meter raises an alarm bit (or loses mains, with
 * lastGasp) it pushes an IDIS alarm Data-Notification (sim/meter/push.ts)
 *   - on its serial line, as an HDLC UI frame queued on the line's transmitter (it waits for
 *     any answer on the wire, as a meter waits for the bus to be free), and/or
 *   - to a configured HOST:PORT over the IEC 62056-47 wrapper, on a new TCP connection per
 *     push (as a modem dials out) or in one UDP datagram.
 * The push goes to the configured client (default 1, management); when that client is
 * secured (HLS), the push is ciphered with general-glo-ciphering under the meter's system
 * title and an invocation counter that only grows.
 */
import type { Clock } from '../protocol/common/clock';
import { isDcuError } from '../protocol/common/errors';
import type { Logger } from '../protocol/common/log';
import { nullLogger } from '../protocol/common/log';
import { ALARM_PUSH_OBIS, LAST_GASP_PUSH_OBIS } from '../protocol/cosem/push';
import { serverAddress } from '../protocol/hdlc/address';
import { TcpTransport } from '../protocol/transport/tcp';
import type { ByteTransport } from '../protocol/transport/types';
import { UdpTransport } from '../protocol/transport/udp';
import { encodeWrapper } from '../protocol/wrapper/codec';
import { encodeAlarmPush, pushCipherFor, pushUiFrame, simLogicalDeviceName, type PushCipher } from './meter/push';
import { simSystemTitle, type ClientCredential, type SimMeterLike, type SimMeterSpec } from './types';

export interface PushSettings {
  /** Where IP pushes go: "tcp://HOST:PORT", "udp://HOST:PORT" (or HOST:PORT = tcp); absent = serial lines only. */
  readonly to?: string;
  /** Client address the pushes are for (default 1, management; its credential decides ciphering). */
  readonly client: number;
  /** Also push on power down ("last gasp"). */
  readonly lastGasp: boolean;
}

export interface PushDestination {
  readonly kind: 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
}

/** "tcp://HOST:PORT", "udp://HOST:PORT" or "HOST:PORT"; undefined when malformed. */
export function parsePushDestination(text: string): PushDestination | undefined {
  const m = /^(?:(tcp|udp):\/\/)?(?:\[([^\]]+)\]|([^:/]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[4]);
  if (port < 1 || port > 65_535) return undefined;
  return { kind: m[1] === 'udp' ? 'udp' : 'tcp', host: m[2] ?? m[3] ?? '', port };
}

export interface PushSenderOptions {
  readonly settings: PushSettings;
  readonly credentials: readonly ClientCredential[];
  /** Meter time (invocation counters start from it, so they grow across restarts). */
  readonly clock: Clock;
  /** The serial-line sender of a meter, if it is on one. */
  readonly busOf?: (spec: SimMeterSpec) => ((frame: Uint8Array) => Promise<void>) | undefined;
  /** Whether the meter is reachable over IP (has a TCP endpoint). */
  readonly onIp?: (spec: SimMeterSpec) => boolean;
  /** Opens the IP destination (tests may replace it). */
  readonly openIp?: (d: PushDestination) => ByteTransport;
  readonly log?: Logger;
}

export interface PushStats {
  sent: number;
  failed: number;
}

export class SimPushSender {
  readonly stats: PushStats = { sent: 0, failed: 0 };
  private readonly destination: PushDestination | undefined;
  private readonly counters = new Map<string, number>();
  private readonly log: Logger;
  private invokeId = 0;
  private readonly pending = new Set<Promise<void>>();
  /** Each meter's pushes leave in order: the next waits for the one before. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly opts: PushSenderOptions) {
    this.log = opts.log ?? nullLogger;
    this.destination = opts.settings.to === undefined ? undefined : parsePushDestination(opts.settings.to);
  }

  /** Subscribes to one meter's pushes; returns unsubscribe. */
  attach(spec: SimMeterSpec, meter: SimMeterLike): () => void {
    if (meter.onPush === undefined) return () => undefined;
    return meter.onPush((e) => {
      if (e.kind === 'power-down' && !this.opts.settings.lastGasp) return;
      const before = this.chains.get(spec.serial) ?? Promise.resolve();
      const next = before
        .then(() => this.send(spec, e.kind === 'alarm' ? 'alarm' : 'last-gasp', e.register))
        .catch((err: unknown) => {
          this.stats.failed++;
          this.log.warn({ meter: spec.serial, err: isDcuError(err) ? err.message : String(err) }, 'push not built');
        });
      this.chains.set(spec.serial, next);
      this.track(next);
    });
  }

  /** Resolves when every push started so far is sent or failed. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private cipher(spec: SimMeterSpec): PushCipher | undefined {
    const cred = this.opts.credentials.find((c) => c.client === this.opts.settings.client);
    return pushCipherFor(cred, simSystemTitle(spec.index));
  }

  /** Invocation counter of the meter's next ciphered push: above every earlier one, and above meter time in seconds. */
  private nextCounter(serial: string): number {
    const floor = Math.floor(this.opts.clock.now() / 1000) % 0x1_0000_0000;
    const next = Math.max((this.counters.get(serial) ?? 0) + 1, floor);
    this.counters.set(serial, next);
    return next;
  }

  /** Builds and sends one push (the alarm register value as it is now). */
  async send(spec: SimMeterSpec, kind: 'alarm' | 'last-gasp', register: number): Promise<void> {
    const client = this.opts.settings.client;
    const cipher = this.cipher(spec);
    this.invokeId = (this.invokeId + 1) & 0xffffff;
    const apdu = encodeAlarmPush(
      { pushSetup: kind === 'alarm' ? ALARM_PUSH_OBIS : LAST_GASP_PUSH_OBIS, logicalDeviceName: simLogicalDeviceName(spec.serial), alarmRegister: register, invokeId: this.invokeId },
      cipher,
      cipher === undefined ? 0 : this.nextCounter(spec.serial),
    );
    const jobs: Promise<void>[] = [];
    const bus = this.opts.busOf?.(spec);
    if (bus !== undefined) jobs.push(bus(pushUiFrame(apdu, serverAddress(spec.logicalDevice, spec.physicalAddress), client)));
    const d = this.destination;
    if (d !== undefined && (this.opts.onIp?.(spec) ?? true)) jobs.push(this.sendIp(d, encodeWrapper({ source: spec.logicalDevice, destination: client, apdu })));
    const results = await Promise.allSettled(jobs);
    for (const r of results) {
      if (r.status === 'fulfilled') this.stats.sent++;
      else {
        this.stats.failed++;
        const err = r.reason as unknown;
        this.log.warn({ meter: spec.serial, kind, err: isDcuError(err) ? err.message : String(err) }, 'push not delivered (is the concentrator listening?)');
      }
    }
    this.log.debug({ meter: spec.serial, kind, register, ciphered: cipher !== undefined }, 'push sent');
  }

  private async sendIp(d: PushDestination, frame: Uint8Array): Promise<void> {
    const t = this.opts.openIp?.(d) ?? (d.kind === 'tcp' ? new TcpTransport({ host: d.host, port: d.port, connectTimeoutMs: 5000 }) : new UdpTransport({ host: d.host, port: d.port }));
    try {
      await t.open();
      await t.write(frame);
    } finally {
      await t.close();
    }
  }
}
