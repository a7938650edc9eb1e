/**
 * The outbox: per stream, messages in `seq` order, written in the same transaction as the
 * data they carry. `seq` is monotonic per stream for the life of the store (table
 * `outbox_streams`), so the envelope id `<dcu>/<stream>/<seq>` of a message never names
 * other data, even after the drain has deleted everything sent.
 *
 * `Outbox` appends (collection side); `OutboxDrain` is the uplink's side: peek in seq order,
 * delete what the HES has, count attempts and keep the last refusal.
 */
import type { Db } from './db';

export class Outbox {
  private readonly takeSeq;
  private readonly insert;

  constructor(db: Db) {
    this.takeSeq = db.prepare<[string], { seq: number }>(
      `INSERT INTO outbox_streams (stream, next_seq) VALUES (?, 2)
       ON CONFLICT (stream) DO UPDATE SET next_seq = next_seq + 1
       RETURNING next_seq - 1 AS seq`,
    );
    this.insert = db.prepare<[string, number, string, number]>('INSERT INTO outbox (stream, seq, payload, created_at) VALUES (?, ?, ?, ?)');
  }

  /** Appends one message; call inside the transaction that stores what it carries. */
  append(stream: string, payload: unknown, now: number): number {
    const seq = this.takeSeq.get(stream)?.seq ?? 1;
    this.insert.run(stream, seq, JSON.stringify(payload), now);
    return seq;
  }
}

export interface OutboxRow {
  readonly stream: string;
  readonly seq: number;
  /** The stored JSON text of the message's content. */
  readonly payload: string;
  readonly createdAt: number;
  readonly attempts: number;
  /** Set when this row opened a message already sent: the last seq of that message. */
  readonly batchEnd: number | null;
}

export interface StreamBacklog {
  readonly stream: string;
  readonly messages: number;
  readonly firstSeq: number;
  readonly oldestAt: number;
  readonly lastError: string | null;
}

export class OutboxDrain {
  private readonly selectAfter;
  private readonly deleteRange;
  private readonly deleteUpTo;
  private readonly attempt;
  private readonly selectStreams;
  private readonly selectBacklog;
  private readonly seal;

  constructor(private readonly db: Db) {
    this.selectAfter = db.prepare<[string, number, number], { seq: number; payload: string; created_at: number; attempts: number; batch_end: number | null }>(
      'SELECT seq, payload, created_at, attempts, batch_end FROM outbox WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.deleteRange = db.prepare<[string, number, number]>('DELETE FROM outbox WHERE stream = ? AND seq BETWEEN ? AND ?');
    this.deleteUpTo = db.prepare<[string, number]>('DELETE FROM outbox WHERE stream = ? AND seq <= ?');
    this.attempt = db.prepare<[string | null, string, number, number]>('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE stream = ? AND seq BETWEEN ? AND ?');
    this.seal = db.prepare<[number, string, number]>('UPDATE outbox SET batch_end = ? WHERE stream = ? AND seq = ? AND batch_end IS NULL');
    this.selectStreams = db.prepare<[], { stream: string }>('SELECT DISTINCT stream FROM outbox ORDER BY stream');
    this.selectBacklog = db.prepare<[], { stream: string; messages: number; first_seq: number; oldest_at: number; last_error: string | null }>(
      `SELECT stream, count(*) AS messages, min(seq) AS first_seq, min(created_at) AS oldest_at,
              (SELECT o2.last_error FROM outbox o2 WHERE o2.stream = o.stream ORDER BY seq LIMIT 1) AS last_error
       FROM outbox o GROUP BY stream ORDER BY stream`,
    );
  }

  /** Streams that have messages waiting. */
  streams(): string[] {
    return this.selectStreams.all().map((r) => r.stream);
  }

  /** Up to `limit` messages of a stream after `afterSeq`, in seq order. */
  peek(stream: string, afterSeq: number, limit: number): OutboxRow[] {
    return this.selectAfter.all(stream, afterSeq, limit).map((r) => ({ stream, seq: r.seq, payload: r.payload, createdAt: r.created_at, attempts: r.attempts, batchEnd: r.batch_end }));
  }

  /** Fixes the rows first..last as one message for every later send (same id). */
  sealBatch(stream: string, first: number, last: number): void {
    this.seal.run(last, stream, first);
  }

  /** The HES has messages first..last of a stream (a broker's PUBACK, or its own ack). */
  delivered(stream: string, first: number, last: number): number {
    return this.deleteRange.run(stream, first, last).changes;
  }

  /** The HES acknowledged everything of a stream up to `seq` (application ack). */
  deliveredUpTo(stream: string, seq: number): number {
    return this.deleteUpTo.run(stream, seq).changes;
  }

  /** A send of first..last failed (or is being tried): count it, keep why. */
  attempted(stream: string, first: number, last: number, error: string | null): void {
    this.attempt.run(error, stream, first, last);
  }

  /** What waits, per stream (health). */
  backlog(): StreamBacklog[] {
    return this.selectBacklog.all().map((r) => ({ stream: r.stream, messages: r.messages, firstSeq: r.first_seq, oldestAt: r.oldest_at, lastError: r.last_error }));
  }

  /** Total messages waiting. */
  size(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  }
}
