/**
 * What goes on the wire for `data/<class>`: an envelope around a batch of outbox messages.
 *
 *   { id, class, incarnation, seq: {first, last}, sentAt, encoding, items: [{seq, ...content}] }
 *
 * `id` is `<dcu id>/<class>/<incarnation>/<first seq>`: the rows of a message are sealed in
 * the outbox at its first send, so a re-send carries the same items under the same id. The
 * incarnation (8 hex digits) is the store's: new when the store was rebuilt or replaced
 * (storage/store-check.ts), so an id never names other data even if the store went back. The outbox keeps
 * each message as stored (profile rows `[capturedAt, status, ...cells]`); the compact
 * encoding, chosen here because it is a WAN concern and the store stays one format, turns
 * profile rows into columns with `start` + `period` when the capture times are regular.
 */
import type { OutboxRow } from '../../storage/outbox';

export type Encoding = 'compact' | 'json';

export const CONTENT_TYPE: Readonly<Record<Encoding, string>> = {
  compact: 'application/vnd.dcu.compact+json',
  json: 'application/json',
};

export interface Envelope {
  readonly id: string;
  readonly class: string;
  readonly incarnation: string;
  readonly seq: { readonly first: number; readonly last: number };
  readonly sentAt: string;
  readonly encoding: Encoding;
  readonly items: readonly Record<string, unknown>[];
}

interface StoredProfile {
  readonly meter: string;
  readonly profile: string;
  readonly columns: readonly unknown[];
  readonly rows: readonly (readonly unknown[])[];
}

function isProfile(p: unknown): p is StoredProfile {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Record<string, unknown>;
  return typeof o.meter === 'string' && typeof o.profile === 'string' && Array.isArray(o.columns) && Array.isArray(o.rows);
}

const INTEGER = /^-?\d+$/;

/**
 * A column of whole numbers without gaps (cumulative energy counters, typically) as its first
 * value and the differences row to row: `{ first: "18001013", delta: [37, 41, …] }`, row i =
 * row i−1 + delta[i−1], exact. Only when every difference is a safe integer and it is shorter
 * than the plain column; undefined otherwise.
 */
export function deltaColumn(column: readonly (string | null)[]): { first: string; delta: number[] } | undefined {
  if (column.length < 2 || !column.every((v): v is string => v !== null && INTEGER.test(v))) return undefined;
  const delta: number[] = [];
  let prev = BigInt(column[0] as string);
  for (let i = 1; i < column.length; i++) {
    const v = BigInt(column[i] as string);
    const d = v - prev;
    if (d > BigInt(Number.MAX_SAFE_INTEGER) || d < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
    delta.push(Number(d));
    prev = v;
  }
  const out = { first: column[0] as string, delta };
  return JSON.stringify(out).length < JSON.stringify(column).length ? out : undefined;
}

/**
 * Profile rows in columns: `start` + `period` (ms) when every step is the same, else `at`
 * (one time per row); `status` only when a row has one; `values[c]` per captured column: the
 * cells row by row, or `{first, delta}` for a column of whole numbers (deltaColumn).
 */
export function compactProfile(p: StoredProfile): Record<string, unknown> {
  const times = p.rows.map((r) => r[0] as number);
  const width = p.columns.length;
  const values: (string | null)[][] = Array.from({ length: width }, () => new Array<string | null>(p.rows.length));
  const status: (number | null)[] = new Array<number | null>(p.rows.length);
  p.rows.forEach((r, i) => {
    const s = (r[1] ?? null) as number | null;
    status[i] = s;
    for (let c = 0; c < width; c++) (values[c] as (string | null)[])[i] = (r[c + 2] ?? null) as string | null;
  });
  const out: Record<string, unknown> = { meter: p.meter, profile: p.profile, columns: p.columns, count: p.rows.length };
  const period = times.length >= 2 ? (times[1] as number) - (times[0] as number) : 0;
  const regular = times.length >= 1 && period >= 0 && times.every((t, i) => t === (times[0] as number) + i * period);
  if (regular) {
    out.start = times[0];
    if (times.length >= 2) out.period = period;
  } else {
    out.at = times;
  }
  if (status.some((x) => x !== null)) out.status = status;
  out.values = values.map((col) => deltaColumn(col) ?? col);
  return out;
}

/** One outbox message as an envelope item. */
export function encodeItem(row: Pick<OutboxRow, 'seq' | 'payload'>, encoding: Encoding): Record<string, unknown> {
  const content = JSON.parse(row.payload) as unknown;
  const body = encoding === 'compact' && isProfile(content) ? compactProfile(content) : content;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? { seq: row.seq, ...(body as Record<string, unknown>) } : { seq: row.seq, content: body };
}

export interface EncodedBatch {
  readonly envelope: Envelope;
  readonly payload: Buffer;
}

/** The JSON text of an item, for the batch size check (the envelope adds little). */
export function itemText(item: Record<string, unknown>): string {
  return JSON.stringify(item);
}

export function envelopeId(dcuId: string, stream: string, incarnation: string, first: number): string {
  return `${dcuId}/${stream}/${incarnation}/${first}`;
}

/** Builds the message from already encoded item texts (no second JSON pass over the rows). */
export function encodeBatch(dcuId: string, stream: string, incarnation: string, seqs: { first: number; last: number }, itemTexts: readonly string[], encoding: Encoding, sentAt: number): Buffer {
  const head = JSON.stringify({ id: envelopeId(dcuId, stream, incarnation, seqs.first), class: stream, incarnation, seq: seqs, sentAt: new Date(sentAt).toISOString(), encoding });
  return Buffer.from(`${head.slice(0, -1)},"items":[${itemTexts.join(',')}]}`, 'utf8');
}
