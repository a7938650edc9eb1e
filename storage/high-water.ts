/**
 * The high-water file beside the store (`dcu.hwm`): the store's incarnation and, per outbox
 * stream, a next seq the store had committed. The drain makes the file cover a message's seq
 * (fsynced) before it publishes it, so every id the HES may have seen is at or below the file:
 * a store that comes back from a partial WAL, a backup or a truncation with a lower next_seq
 * is found at start (storage/store-check.ts) instead of sending those ids again for new data.
 *
 * Two fixed 1 KiB slots written in turn, each with its own checksum: an update never needs a
 * new block on the disk (it works on a full filesystem), and a torn write leaves the other
 * slot, the previous mark, readable.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import type { Db } from './db';

export const HIGH_WATER_FILE = 'dcu.hwm';
const SLOT = 1024;

export interface HighWaterMark {
  readonly incarnation: string;
  /** Per stream, a next_seq the store had committed. */
  readonly streams: Readonly<Record<string, number>>;
}

interface Slot extends HighWaterMark {
  readonly n: number;
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

function parseSlot(raw: string): Slot | undefined {
  const [json, sum] = raw.split('\n');
  if (json === undefined || sum === undefined || digest(json) !== sum) return undefined;
  try {
    const v = JSON.parse(json) as Slot;
    return typeof v.n === 'number' && typeof v.incarnation === 'string' && typeof v.streams === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

function readSlots(path: string): Slot | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
  const slots = [parseSlot(text.slice(0, SLOT)), parseSlot(text.slice(SLOT, 2 * SLOT))].filter((s): s is Slot => s !== undefined);
  return slots.sort((a, b) => b.n - a.n)[0];
}

/** The last mark written at `path`, or undefined when there is none (or neither slot is sound). */
export function readHighWater(path: string): HighWaterMark | undefined {
  const s = readSlots(path);
  return s === undefined ? undefined : { incarnation: s.incarnation, streams: s.streams };
}

export class HighWater {
  private n: number;
  private covered: Record<string, number>;
  private readonly selectStreams;

  constructor(
    private readonly path: string,
    db: Db,
    private incarnation: string,
  ) {
    const last = readSlots(path);
    this.n = last?.n ?? 0;
    this.covered = last?.incarnation === incarnation ? { ...last.streams } : {};
    this.selectStreams = db.prepare<[], { stream: string; next_seq: number }>('SELECT stream, next_seq FROM outbox_streams');
  }

  /** Makes the file say the store reached past `seq` on `stream` (a no-op when it already does). */
  cover(stream: string, seq: number): void {
    if ((this.covered[stream] ?? 1) > seq) return;
    this.record();
  }

  /** Writes the store's next_seq of every stream now (fsynced). */
  record(incarnation = this.incarnation): void {
    const streams = Object.fromEntries(this.selectStreams.all().map((r) => [r.stream, r.next_seq]));
    const n = this.n + 1;
    const json = JSON.stringify({ n, incarnation, streams });
    const slot = `${json}\n${digest(json)}\n`;
    if (slot.length > SLOT) throw new DcuError(ErrorCode.Storage, `the high-water mark of ${Object.keys(streams).length} streams does not fit its ${SLOT}-byte slot in ${this.path}`, { context: { path: this.path } });
    try {
      const fd = openSync(this.path, 'a+', 0o600);
      closeSync(fd);
      const rw = openSync(this.path, 'r+');
      try {
        writeSync(rw, slot.padEnd(SLOT, ' '), (n % 2) * SLOT, 'latin1');
        fsyncSync(rw);
      } finally {
        closeSync(rw);
      }
    } catch (e) {
      throw new DcuError(ErrorCode.Storage, `cannot write the high-water file ${this.path}: ${(e as Error).message}`, { cause: e, context: { path: this.path } });
    }
    this.n = n;
    this.incarnation = incarnation;
    this.covered = streams;
  }
}
