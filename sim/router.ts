/**
 * Meter side of one HDLC byte stream shared by several meters (a serial line) or used by one
 * (HDLC over TCP): cuts bytes into frames, gives each frame to the meter whose server address
 * it carries, drops frames for nobody, applies the meter's faults both ways and returns the
 * answer frames. No I/O and no timing here: the line paces, the TCP endpoint writes.
 */
import type { HdlcAddress } from '../protocol/hdlc/address';
import { HdlcSplitter } from '../protocol/hdlc/splitter';
import type { MeterSlot } from './slot';
import { SimMeterStation, type StationOptions } from './station';

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
  private readonly stations = new Map<MeterSlot, SimMeterStation>();
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
      this.unsubscribe.push(slot.onPowerCut(() => this.stations.get(slot)?.reset()));
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
      const out = this.station(slot).receiveFrame(ev.raw, ev.frame.dest);
      const frames: Uint8Array[] = [];
      for (const f of out) {
        const g = slot.faults.outgoing(f);
        if (g !== undefined) frames.push(g);
      }
      if (frames.length > 0) answers.push({ slot, frames });
    }
    return answers;
  }

  /** Drops every link (stream closed). */
  resetAll(): void {
    for (const s of this.stations.values()) s.reset();
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

  private station(slot: MeterSlot): SimMeterStation {
    let s = this.stations.get(slot);
    if (s === undefined) {
      s = new SimMeterStation(slot, this.stationOptions);
      this.stations.set(slot, s);
    }
    return s;
  }
}
