/**
 * Event logs (Profile generic of {clock, event code}) kept in memory, a bounded FIFO each,
 * and the simulator's event codes, alarm bits and profile status bits.
 *
 * The codes follow the IDIS habit (power down 1, power up 2, clock adjusted old / new time
 * 4 / 5 …) but are the simulator's own table: a reader should not assume a given meter brand.
 */
import type { Data } from '../../protocol/axdr/data';
import type { CaptureObject } from '../../protocol/cosem/capture-object';
import type { RequestContext } from '../../protocol/server/object';
import type { ProfileSource } from './profile-object';

export const EventCode = {
  powerDown: 1,
  powerUp: 2,
  clockAdjustedOldTime: 4,
  clockAdjustedNewTime: 5,
  firmwareReadyForActivation: 17,
  firmwareActivated: 18,
  firmwareVerificationFailed: 19,
  firmwareActivationFailed: 20,
  disconnected: 59,
  reconnected: 60,
  readyForReconnection: 61,
} as const;

/** Alarm register 0.0.97.98.0.255 bits (IDIS-style positions). */
export const AlarmBit = {
  clockInvalid: 1 << 0,
  powerUp: 1 << 2,
  firmwareVerificationFailed: 1 << 13,
  firmwareActivationFailed: 1 << 14,
  disconnected: 1 << 20,
} as const;

/** Load profile status (0.0.96.10.1.255) bits of an interval. */
export const ProfileStatusBit = {
  clockAdjusted: 0x20,
  powerDown: 0x80,
} as const;

export interface LoggedEvent {
  /** Meter time, epoch ms. */
  readonly at: number;
  readonly code: number;
}

export class EventLog {
  private list: LoggedEvent[];

  constructor(
    readonly depth: number,
    entries: readonly LoggedEvent[] = [],
  ) {
    this.list = entries.slice(-depth);
  }

  add(at: number, code: number): void {
    this.list.push({ at, code });
    if (this.list.length > this.depth) this.list.splice(0, this.list.length - this.depth);
  }

  entries(): readonly LoggedEvent[] {
    return this.list;
  }

  /** The newest event's code (the event code object's value), 0 when empty. */
  lastCode(): number {
    return this.list[this.list.length - 1]?.code ?? 0;
  }

  clear(): void {
    this.list = [];
  }

  /** Events in (from, to], meter time. */
  between(from: number, to: number): LoggedEvent[] {
    return this.list.filter((e) => e.at > from && e.at <= to);
  }

  /** A Profile generic source of {date-time, uint8 code} rows. */
  source(captureObjects: readonly CaptureObject[], dateTime: (ms: number) => Data): ProfileSource {
    const row = (e: LoggedEvent): Data => ({ type: 'structure', items: [dateTime(e.at), { type: 'uint8', value: e.code }] });
    return {
      captureObjects,
      periodS: 0,
      depth: this.depth,
      entriesInUse: () => this.list.length,
      rowsByEntry: (_ctx: RequestContext, from: number, to: number) => this.list.slice(from, to).map(row),
      rowsByTime: (_ctx: RequestContext, from: number | null, to: number | null) =>
        this.list.filter((e) => (from === null || e.at >= from) && (to === null || e.at <= to)).map(row),
      reset: () => {
        this.clear();
        return true;
      },
    };
  }
}
