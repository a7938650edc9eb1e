/**
 * Events and alarms the concentrator raises, each also appended to the outbox (streams
 * `events`, `alarms`) in the caller's transaction.
 */
import type { Db } from './db';
import { Outbox } from './outbox';

export interface RaisedNotice {
  readonly meter: string | null;
  readonly code: string;
  readonly detail: string;
}

export class EventLog {
  private readonly insertEvent;
  private readonly insertAlarm;
  private readonly outbox;

  constructor(db: Db) {
    this.insertEvent = db.prepare<[string | null, string, string, number]>('INSERT INTO events (meter, code, detail, at) VALUES (?, ?, ?, ?)');
    this.insertAlarm = db.prepare<[string | null, string, string, number]>('INSERT INTO alarms (meter, code, detail, raised_at) VALUES (?, ?, ?, ?)');
    this.outbox = new Outbox(db);
  }

  /** Call inside a transaction. */
  event(e: RaisedNotice, now: number): void {
    const id = Number(this.insertEvent.run(e.meter, e.code, e.detail, now).lastInsertRowid);
    this.outbox.append('events', { id, ...e, at: now }, now);
  }

  /** Call inside a transaction. */
  alarm(a: RaisedNotice, now: number): void {
    const id = Number(this.insertAlarm.run(a.meter, a.code, a.detail, now).lastInsertRowid);
    this.outbox.append('alarms', { id, ...a, raisedAt: now }, now);
  }
}
