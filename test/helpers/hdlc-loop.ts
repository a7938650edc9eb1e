/**
 * Drives an HdlcClientLink against an HdlcSecondaryLink on a FakeClock: client output →
 * meter input and back, with hooks to drop, corrupt, duplicate or split chosen frames.
 */
import { FakeClock } from '../../protocol/common/clock';
import { decodeFrame, type HdlcFrame } from '../../protocol/hdlc/frame';
import { HdlcClientLink, type HdlcClientLinkOptions, type LinkEvent } from '../../protocol/hdlc/link';
import { HdlcSecondaryLink, type HdlcSecondaryOptions, type SecondaryEvent } from '../../protocol/hdlc/secondary';
import { serverAddress } from '../../protocol/hdlc/address';

export type FaultAction = 'pass' | 'drop' | 'corrupt' | 'duplicate' | 'split';
/** Decides the fate of the n-th frame (0-based, per direction). */
export type FaultFilter = (frame: HdlcFrame, n: number) => FaultAction;

export function describeFrame(f: HdlcFrame): string {
  const c = f.control;
  const pf = c.pf ? 'P' : '';
  const s = f.segmented ? 'S' : '';
  if (c.kind === 'I') return `I${c.ns}/${c.nr}${pf}${s}`;
  if (c.kind === 'RR' || c.kind === 'RNR') return `${c.kind}${c.nr}${pf}`;
  return c.kind;
}

export interface LoopOptions {
  readonly link?: Partial<Omit<HdlcClientLinkOptions, 'clock'>>;
  readonly meter?: Partial<HdlcSecondaryOptions>;
  /**
   * The meter's APDU handler; undefined answer = answer later by hand; an array = all of
   * them (sendApdus: several APDUs, or none). Default: echo.
   */
  readonly handler?: (apdu: Uint8Array) => Uint8Array | readonly Uint8Array[] | undefined;
}

export class HdlcLoop {
  readonly clock = new FakeClock();
  readonly link: HdlcClientLink;
  readonly meter: HdlcSecondaryLink;
  readonly events: LinkEvent[] = [];
  readonly meterEvents: SecondaryEvent[] = [];
  /** "C>" client to meter, "M>" meter to client; "x" dropped, "~" corrupted. */
  readonly trace: string[] = [];
  up: FaultFilter = () => 'pass';
  down: FaultFilter = () => 'pass';
  private upCount = 0;
  private downCount = 0;
  private readonly handler: (apdu: Uint8Array) => Uint8Array | readonly Uint8Array[] | undefined;

  constructor(options: LoopOptions = {}) {
    const server = options.meter?.address ?? serverAddress(1, 17);
    this.link = new HdlcClientLink({ client: 16, server, responseTimeoutMs: 1000, clock: this.clock, ...options.link });
    this.meter = new HdlcSecondaryLink({ address: server, ...options.meter });
    this.handler = options.handler ?? ((apdu) => apdu);
  }

  /** Clears the trace and restarts the per-direction frame counters of the filters. */
  mark(): void {
    this.trace.length = 0;
    this.upCount = 0;
    this.downCount = 0;
  }

  /** Moves frames both ways until nothing is left to move. */
  pump(): void {
    for (let guard = 0; guard < 100_000; guard++) {
      // The meter answers each APDU before it reads the next frame (as HdlcMeterStation does).
      const me = this.meter.takeEvent();
      if (me !== undefined) {
        this.meterEvents.push(me);
        if (me.type === 'apdu') {
          const answer = this.handler(me.apdu);
          if (answer instanceof Uint8Array) this.meter.sendApdu(answer);
          else if (answer !== undefined) this.meter.sendApdus(answer);
        }
        continue;
      }
      const up = this.link.takeOutput();
      if (up !== undefined) {
        this.deliver('C>', up, this.up, this.upCount++, (b) => this.meter.receive(b));
        continue;
      }
      const down = this.meter.takeOutput();
      if (down !== undefined) {
        this.deliver('M>', down, this.down, this.downCount++, (b) => this.link.receive(b));
        continue;
      }
      const le = this.link.takeEvent();
      if (le !== undefined) {
        this.events.push(le);
        continue;
      }
      return;
    }
    throw new Error('HdlcLoop.pump did not settle');
  }

  /** Advances the clock in steps, pumping in between. */
  run(ms: number, step = 50): void {
    this.pump();
    for (let t = 0; t < ms; t += step) {
      this.clock.advance(Math.min(step, ms - t));
      this.pump();
    }
  }

  /** Connects and runs until the link is connected (or the time is up). */
  connect(ms = 10_000): void {
    this.link.connect();
    this.until(() => this.link.state !== 'connecting', ms);
  }

  /** Sends an APDU and runs until an 'apdu' or 'error' event arrives; returns the answer. */
  request(apdu: Uint8Array, ms = 60_000): Uint8Array | undefined {
    const before = this.events.length;
    this.link.sendApdu(apdu);
    this.until(() => this.events.slice(before).some((e) => e.type === 'apdu' || e.type === 'error'), ms);
    const got = this.events.slice(before).find((e) => e.type === 'apdu');
    return got?.type === 'apdu' ? got.apdu : undefined;
  }

  until(done: () => boolean, ms: number, step = 50): void {
    this.pump();
    for (let t = 0; t < ms && !done(); t += step) {
      this.clock.advance(step);
      this.pump();
    }
  }

  private deliver(dir: string, bytes: Uint8Array, filter: FaultFilter, n: number, to: (b: Uint8Array) => void): void {
    const frame = decodeFrame(bytes);
    const action = filter(frame, n);
    const name = describeFrame(frame);
    switch (action) {
      case 'drop':
        this.trace.push(`${dir}x${name}`);
        return;
      case 'corrupt': {
        this.trace.push(`${dir}~${name}`);
        const bad = bytes.slice();
        const at = bytes.length - 3;
        bad[at] = (bad[at] ?? 0) ^ 0x5a;
        to(bad);
        return;
      }
      case 'duplicate':
        this.trace.push(`${dir}${name}`, `${dir}${name}`);
        to(bytes);
        to(bytes);
        return;
      case 'split': {
        this.trace.push(`${dir}${name}`);
        for (const b of bytes) to(Uint8Array.of(b));
        return;
      }
      case 'pass':
        this.trace.push(`${dir}${name}`);
        to(bytes);
        return;
    }
  }
}
