/**
 * Events and alarms the concentrator raises, each also appended to the outbox (streams
 * `events`, `alarms`) in the caller's transaction.
 */
import { fullKind, inReserve, write, type Db } from './db';
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
  private readonly lastRegister;
  private readonly saveRegister;
  private readonly clearAlarm;

  constructor(private readonly db: Db) {
    this.insertEvent = db.prepare<[string | null, string, string, number]>('INSERT INTO events (meter, code, detail, at) VALUES (?, ?, ?, ?)');
    this.insertAlarm = db.prepare<[string | null, string, string, number]>('INSERT INTO alarms (meter, code, detail, raised_at) VALUES (?, ?, ?, ?)');
    this.outbox = new Outbox(db);
    this.lastRegister = db.prepare<[string], { value: number }>('SELECT value FROM alarm_registers WHERE meter = ?');
    this.saveRegister = db.prepare<[string, number, number]>(
      'INSERT INTO alarm_registers (meter, value, read_at) VALUES (?, ?, ?) ON CONFLICT (meter) DO UPDATE SET value = excluded.value, read_at = excluded.read_at',
    );
    this.clearAlarm = db.prepare<[number, string, string]>('UPDATE alarms SET cleared_at = ? WHERE meter = ? AND code = ? AND cleared_at IS NULL');
  }

  /**
   * A meter's alarm register as read: a bit that sets raises an alarm, a bit that clears
   * clears it (both to the outbox), in one transaction with the new register value.
   */
  applyAlarmRegister(meter: string, value: number, now: number, name: (bit: number) => string): { raised: string[]; cleared: string[] } {
    return write(this.db, `the alarm register of ${meter}`, () => {
      const before = this.lastRegister.get(meter)?.value ?? 0;
      const raised: string[] = [];
      const cleared: string[] = [];
      for (let bit = 0; bit < 32; bit++) {
        const mask = 2 ** bit;
        const was = Math.floor(before / mask) % 2 === 1;
        const is = Math.floor(value / mask) % 2 === 1;
        if (is && !was) {
          raised.push(name(bit));
          this.alarm({ meter, code: name(bit), detail: `alarm register 0.0.97.98.0.255 bit ${bit} set` }, now);
        } else if (was && !is) {
          cleared.push(name(bit));
          this.clearAlarm.run(now, meter, name(bit));
        }
      }
      if (cleared.length > 0) this.outbox.append('alarms', { meter, cleared, clearedAt: now }, now);
      this.saveRegister.run(meter, value, now);
      return { raised, cleared };
    });
  }

  private storeFullRaised: boolean | undefined;

  /**
   * The store is full for readings: one alarm (written in the reserve) until a reading is
   * stored again — `store-full` when the store reached storage.maxBytes, `disk-full` when its
   * filesystem is full. Readings are not dropped: the meters keep them and collection
   * resumes from the watermarks when there is room.
   */
  storeFull(detail: string, now: number): boolean {
    if (this.storeFullOpen()) return false;
    const code = fullKind(this.db) === 'filesystem' ? 'disk-full' : 'store-full';
    inReserve(this.db, () => write(this.db, `the ${code} alarm`, () => this.alarm({ meter: null, code, detail }, now)));
    this.storeFullRaised = true;
    return true;
  }

  /** A reading was stored: a store-full alarm, if any, is cleared. */
  storeOk(now: number): void {
    if (!this.storeFullOpen()) return;
    inReserve(this.db, () =>
      write(this.db, 'clearing the store-full alarm', () => {
        const open = this.db.prepare<[], { code: string }>("SELECT DISTINCT code FROM alarms WHERE meter IS NULL AND code IN ('store-full', 'disk-full') AND cleared_at IS NULL").all().map((r) => r.code);
        this.db.prepare("UPDATE alarms SET cleared_at = ? WHERE meter IS NULL AND code IN ('store-full', 'disk-full') AND cleared_at IS NULL").run(now);
        this.outbox.append('alarms', { meter: null, cleared: open, clearedAt: now }, now);
      }),
    );
    this.storeFullRaised = false;
  }

  private storeFullOpen(): boolean {
    this.storeFullRaised ??= this.db.prepare("SELECT 1 FROM alarms WHERE meter IS NULL AND code IN ('store-full', 'disk-full') AND cleared_at IS NULL").get() !== undefined;
    return this.storeFullRaised;
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
