/**
 * The outbox: per stream, messages in `seq` order, written in the same transaction as the
 * data they carry. The MQTT uplink drains it; this module only appends (and lets tests read).
 */
import type { Db } from './db';

export class Outbox {
  private readonly nextSeq;
  private readonly insert;

  constructor(db: Db) {
    this.nextSeq = db.prepare<[string], { seq: number }>('SELECT coalesce(max(seq), 0) + 1 AS seq FROM outbox WHERE stream = ?');
    this.insert = db.prepare<[string, number, string, number]>('INSERT INTO outbox (stream, seq, payload, created_at) VALUES (?, ?, ?, ?)');
  }

  /** Appends one message; call inside the transaction that stores what it carries. */
  append(stream: string, payload: unknown, now: number): number {
    const seq = this.nextSeq.get(stream)?.seq ?? 1;
    this.insert.run(stream, seq, JSON.stringify(payload), now);
    return seq;
  }
}
