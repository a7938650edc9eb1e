/**
 * Meter side of one HDLC byte stream shared by several meters (a serial line) or used by one
 * (HDLC over TCP): cuts bytes into frames, gives each frame to the meter whose server address
 * it carries, drops frames for nobody, applies the meter's faults both ways and returns the
 * answer frames. No I/O and no timing here: the line paces, the TCP endpoint writes.
 * Each meter is the protocol's own HdlcMeterStation, fed frame by frame (frame-routed); its
 * meter object is created by the first request (MeterSlot).
 */
import type { Clock } from '../protocol/common/clock';
import { nullLogger, type Logger } from '../protocol/common/log';
import { serverAddress, type HdlcAddress } from '../protocol/hdlc/address';
import type { HdlcParameters } from '../protocol/hdlc/params';
import { HdlcSplitter } from '../protocol/hdlc/splitter';
import { HdlcMeterStation } from '../protocol/server/station';
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

export interface RouterStats {
  /** Valid frames received. */
  frames: number;
  /** Frames for a server address no meter here has. */
  forNobody: number;
  /** Frames dropped by fault injection (silent, lost) before reaching a meter. */
  dropped: number;
  /** Delimited frames with a bad HCS/FCS or unknown control. */
  badFrames: number;
  garbageBytes: number;
}

/** What one received frame produced: the meter that answers and its frames (after faults). */
export interface RouterAnswer {
  readonly slot: MeterSlot;
  readonly frames: readonly Uint8Array[];
}

export class HdlcRouter {
  private readonly splitter = new HdlcSplitter();
  private readonly byPhysical = new Map<number, MeterSlot[]>();
  private readonly stations = new Map<MeterSlot, HdlcMeterStation>();
  private readonly unsubscribe: (() => void)[] = [];
  readonly stats: RouterStats = { frames: 0, forNobody: 0, dropped: 0, badFrames: 0, garbageBytes: 0 };

  constructor(
    private readonly slots: readonly MeterSlot[],
    private readonly stationOptions: StationOptions,
  ) {
    for (const slot of slots) {
      const list = this.byPhysical.get(slot.spec.physicalAddress) ?? [];
      list.push(slot);
      this.byPhysical.set(slot.spec.physicalAddress, list);
      this.unsubscribe.push(slot.onPowerCut(() => this.stations.get(slot)?.dispose()));
    }
  }

  /** The meter a server address selects, if any. A 1-byte address (no physical part) only selects a lone meter. */
  route(dest: HdlcAddress): MeterSlot | undefined {
    if (dest.size === 1) {
      const only = this.slots.length === 1 ? this.slots[0] : undefined;
      return only?.spec.logicalDevice === dest.logical ? only : undefined;
    }
    return this.byPhysical.get(dest.physical ?? 0)?.find((s) => s.spec.logicalDevice === dest.logical);
  }

  /** Feeds received bytes; returns the answers in the order their requests arrived. */
  push(chunk: Uint8Array): RouterAnswer[] {
    const answers: RouterAnswer[] = [];
    for (const ev of this.splitter.push(chunk)) {
      if (ev.type === 'garbage') {
        this.stats.garbageBytes += ev.bytes.length;
        continue;
      }
      if (ev.type === 'error') {
        this.stats.badFrames++;
        continue;
      }
      this.stats.frames++;
      const slot = this.route(ev.frame.dest);
      if (slot === undefined) {
        this.stats.forNobody++;
        continue;
      }
      if (slot.faults.dropIncoming()) {
        this.stats.dropped++;
        continue;
      }
      const station = this.station(slot);
      station.receiveFrame(ev.raw, ev.frame.dest);
      const frames: Uint8Array[] = [];
      for (let f = station.takeOutput(); f !== undefined; f = station.takeOutput()) {
        const g = slot.faults.outgoing(f);
        if (g !== undefined) frames.push(g);
      }
      if (frames.length > 0) answers.push({ slot, frames });
    }
    return answers;
  }

  /** Drops every link (stream closed). */
  resetAll(): void {
    for (const s of this.stations.values()) s.dispose();
    this.splitter.reset();
  }

  /** Releases sessions and unsubscribes from the slots. */
  dispose(): void {
    this.resetAll();
    this.stations.clear();
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Meters with a station (that have been talked to) on this stream. */
  get activeStations(): number {
    return this.stations.size;
  }

  /** Times a meter handler on this stream threw (each answered per the station policy). */
  get handlerErrors(): number {
    let n = 0;
    for (const s of this.stations.values()) n += s.stats.handlerErrors;
    return n;
  }

  private station(slot: MeterSlot): HdlcMeterStation {
    let s = this.stations.get(slot);
    if (s === undefined) {
      const o = this.stationOptions;
      const spec = slot.spec;
      s = new HdlcMeterStation({
        handler: slot.handler,
        address: serverAddress(spec.logicalDevice, spec.physicalAddress),
        clock: o.clock,
        inactivityTimeoutMs: o.inactivityTimeoutMs ?? 120_000,
        ...(o.limits === undefined ? {} : { limits: o.limits }),
        name: `${o.where}:${spec.serial}`,
        log: (o.log ?? nullLogger).child({ meter: spec.serial, where: o.where }),
        // Nothing is sent unpolled: timer-driven changes (inactivity) produce no frames to write.
      });
      this.stations.set(slot, s);
    }
    return s;
  }
}
