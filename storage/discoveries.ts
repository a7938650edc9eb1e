/**
 * Meters the discovery job found at an address the registry does not know. They are the
 * concentrator's events (code `meter-discovered`, to the HES through the outbox like every
 * event), each find once per line, address and identity: a daily scan that finds the same
 * meter again adds nothing. The registry is the HES's: nothing here registers a meter.
 */
import { write, type Db } from './db';
import type { EventLog } from './events';

export const DISCOVERED = 'meter-discovered';

export interface DiscoveredMeter {
  readonly line: string;
  /** LOGICAL/PHYSICAL, as the registry's addresses are written. */
  readonly address: string;
  readonly serialNumber?: string;
  readonly logicalName?: string;
  readonly firmwareId?: string;
  /** Why the identity is missing (the meter answered SNRM but refused the probe's association). */
  readonly note?: string;
}

export interface DiscoveryRecord extends DiscoveredMeter {
  readonly at: number;
}

const DETAIL = /^line (\S+) address (\S+) answers: (.*)$/;

/** The event's text: stable, so the same find is recognised, and readable for people. */
export function discoveryDetail(m: DiscoveredMeter): string {
  const parts = [
    m.serialNumber === undefined ? undefined : `serial ${m.serialNumber}`,
    m.logicalName === undefined ? undefined : `logical device name ${m.logicalName}`,
    m.firmwareId === undefined ? undefined : `firmware ${m.firmwareId}`,
    m.note,
  ].filter((p): p is string => p !== undefined);
  return `line ${m.line} address ${m.address} answers: ${parts.length === 0 ? 'identity not read' : parts.join(', ')}`;
}

function parseDetail(detail: string): Omit<DiscoveredMeter, 'serialNumber'> | undefined {
  const m = DETAIL.exec(detail);
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  const field = (name: string): string | undefined => new RegExp(`(?:^|, )${name} ([^,]+)`).exec(m[3] ?? '')?.[1];
  const logicalName = field('logical device name');
  const firmwareId = field('firmware');
  return { line: m[1], address: m[2], ...(logicalName === undefined ? {} : { logicalName }), ...(firmwareId === undefined ? {} : { firmwareId }) };
}

export class DiscoveryLog {
  private readonly seen;
  private readonly all;

  constructor(
    private readonly db: Db,
    private readonly events: EventLog,
  ) {
    this.seen = db.prepare<[string, string]>('SELECT 1 FROM events WHERE code = ? AND detail = ? LIMIT 1');
    this.all = db.prepare<[string], { meter: string | null; detail: string; at: number }>('SELECT meter, detail, at FROM events WHERE code = ? ORDER BY at, id');
  }

  /** Stores the find as an event (with its outbox message) unless it is known; true when new. */
  record(m: DiscoveredMeter, now: number): boolean {
    const detail = discoveryDetail(m);
    return write(this.db, `the discovery of ${m.line} ${m.address}`, () => {
      if (this.seen.get(DISCOVERED, detail) !== undefined) return false;
      this.events.event({ meter: m.serialNumber ?? null, code: DISCOVERED, detail }, now);
      return true;
    });
  }

  /** Every find, oldest first. */
  list(): DiscoveryRecord[] {
    return this.all.all(DISCOVERED).flatMap((r) => {
      const d = parseDetail(r.detail);
      return d === undefined ? [] : [{ ...d, ...(r.meter === null ? {} : { serialNumber: r.meter }), at: r.at }];
    });
  }
}
