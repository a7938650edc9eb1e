/**
 * One meter on one HDLC byte stream (a shared serial line or one TCP connection): an HDLC
 * secondary station created on the first frame for the meter, and the meter's APDU handler
 * behind it. Frames in, frames out; no I/O here.
 */
import type { Clock } from '../protocol/common/clock';
import type { Logger } from '../protocol/common/log';
import { nullLogger } from '../protocol/common/log';
import { addressEquals, serverAddress, type HdlcAddress } from '../protocol/hdlc/address';
import type { HdlcParameters } from '../protocol/hdlc/params';
import { HdlcSecondaryLink } from '../protocol/hdlc/secondary';
import type { ServerSession } from '../protocol/server/contract';
import type { MeterSlot } from './slot';

export interface StationOptions {
  readonly clock: Clock;
  /** The meter's HDLC limits (default 128/128/1/1 as many real meters). */
  readonly limits?: Partial<HdlcParameters>;
  /** The link drops after this long without frames (default 120 s; 0 = never). */
  readonly inactivityTimeoutMs?: number;
  /** Prefix of session ids (the line or connection name). */
  readonly where: string;
  readonly log?: Logger;
}

let sessionCounter = 0;

/**
 * One simulated meter on a shared line: frames are routed to it by address (router.ts); the
 * meter is created on first use (MeterSlot) and a new HDLC link starts when the client
 * changes address size. protocol/server/station.ts is the stream-level station for one meter.
 */
export class SimMeterStation {
  private link: HdlcSecondaryLink | undefined;
  private linkAddress: HdlcAddress | undefined;
  private session: ServerSession | undefined;
  private inReceive = false;
  private readonly log: Logger;

  constructor(
    readonly slot: MeterSlot,
    private readonly opts: StationOptions,
  ) {
    this.log = opts.log ?? nullLogger;
  }

  get connected(): boolean {
    return this.link?.connected ?? false;
  }

  /** Handles one frame addressed to this meter (dest as it came); returns the answer frames. */
  receiveFrame(raw: Uint8Array, dest: HdlcAddress): Uint8Array[] {
    const link = this.linkFor(dest);
    this.inReceive = true;
    try {
      link.receive(raw);
      this.drainEvents(link);
    } finally {
      this.inReceive = false;
    }
    const out: Uint8Array[] = [];
    for (let f = link.takeOutput(); f !== undefined; f = link.takeOutput()) out.push(f);
    return out;
  }

  /** Power cut or stream closed: the link state goes, the association is released. */
  reset(): void {
    this.link?.dispose();
    this.link = undefined;
    this.linkAddress = undefined;
    this.endSession();
  }

  private linkFor(dest: HdlcAddress): HdlcSecondaryLink {
    const spec = this.slot.spec;
    const own = serverAddress(spec.logicalDevice, dest.size === 1 ? undefined : spec.physicalAddress, dest.size);
    if (this.link !== undefined && this.linkAddress !== undefined && addressEquals(own, this.linkAddress)) return this.link;
    this.reset(); // first frame, or the client switched address size: a new link
    const link = new HdlcSecondaryLink({
      address: own,
      ...(this.opts.limits === undefined ? {} : { limits: this.opts.limits }),
      clock: this.opts.clock,
      inactivityTimeoutMs: this.opts.inactivityTimeoutMs ?? 120_000,
      notify: () => {
        // Timer-driven changes (inactivity): forward the events; nothing is sent unpolled.
        if (!this.inReceive && this.link === link) {
          this.drainEvents(link);
          while (link.takeOutput() !== undefined);
        }
      },
    });
    this.link = link;
    this.linkAddress = own;
    return link;
  }

  private drainEvents(link: HdlcSecondaryLink): void {
    for (let ev = link.takeEvent(); ev !== undefined; ev = link.takeEvent()) {
      switch (ev.type) {
        case 'connected':
          this.endSession();
          this.session = { id: `${this.opts.where}:${this.slot.spec.serial}:${++sessionCounter}`, clientAddress: ev.client };
          this.log.debug({ meter: this.slot.spec.serial, client: ev.client, params: ev.params }, 'HDLC connected');
          break;
        case 'disconnected':
          this.log.debug({ meter: this.slot.spec.serial, client: ev.client, reason: ev.reason }, 'HDLC disconnected');
          this.endSession();
          break;
        case 'apdu': {
          const session = this.session ?? { id: `${this.opts.where}:${this.slot.spec.serial}:orphan`, clientAddress: ev.client };
          // Every answer (a GBT stream gives several) goes within the HDLC window; none still
          // ends the APDU's turn (the poll is answered with RR).
          if (link.connected) link.sendApdus(this.handle(ev.apdu, session));
          break;
        }
      }
    }
  }

  private handle(apdu: Uint8Array, session: ServerSession): readonly Uint8Array[] {
    const h = this.slot.meter.handler;
    try {
      if (h.handleBurst !== undefined) return h.handleBurst(apdu, session);
      const answer = h.handle(apdu, session);
      return answer === undefined ? [] : [answer];
    } catch (e) {
      this.log.error({ meter: this.slot.spec.serial, err: e }, 'meter handler threw (contract: it must not)');
      return [];
    }
  }

  private endSession(): void {
    const s = this.session;
    this.session = undefined;
    if (s !== undefined) this.slot.peek()?.handler.release(s);
  }
}
