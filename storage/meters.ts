/**
 * The meter registry in SQLite: identity, line, address, access (client, mechanism,
 * credentials reference) and the tracked state of daemon/registry/state.ts. Seed lists from
 * the configuration are applied idempotently and never remove meters added otherwise.
 */
import type { MeterConfig } from '../config/schema';
import type { MeterState, MeterIdentity, Reachability, Stage } from '../daemon/registry/state';
import { registeredMeter } from '../daemon/registry/state';
import { write, type Db } from './db';

export type MeterSource = 'config' | 'hes' | 'local';
export type MeterAccess = Omit<MeterConfig, 'serial' | 'line' | 'address'>;

export interface MeterRecord {
  readonly serial: string;
  readonly line: string;
  readonly address: string;
  readonly access: MeterAccess;
  readonly source: MeterSource;
  readonly state: MeterState;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Row {
  serial: string;
  line: string;
  address: string;
  access: string;
  source: MeterSource;
  stage: Stage;
  reachability: Reachability;
  last_seen: number | null;
  silent_since: number | null;
  unreachable_reported: number;
  identity: string;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

function fromRow(r: Row): MeterRecord {
  return {
    serial: r.serial,
    line: r.line,
    address: r.address,
    access: JSON.parse(r.access) as MeterAccess,
    source: r.source,
    state: {
      serial: r.serial,
      stage: r.stage,
      reachability: r.reachability,
      lastSeen: r.last_seen,
      silentSince: r.silent_since,
      unreachableReported: r.unreachable_reported !== 0,
      identity: JSON.parse(r.identity) as MeterIdentity,
      lastError: r.last_error,
    },
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function accessOf(m: MeterConfig): MeterAccess {
  const access: Record<string, unknown> = { ...m };
  delete access.serial;
  delete access.line;
  delete access.address;
  return access as MeterAccess;
}

export interface SeedResult {
  readonly added: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: number;
}

export class MeterRepository {
  private readonly byId;
  private readonly all;
  private readonly insert;
  private readonly updateWhere;
  private readonly updateState;
  private readonly del;

  constructor(private readonly db: Db) {
    this.byId = db.prepare<[string], Row>('SELECT * FROM meters WHERE serial = ?');
    this.all = db.prepare<[], Row>('SELECT * FROM meters ORDER BY line, serial');
    this.insert = db.prepare<[string, string, string, string, MeterSource, number, number]>(
      'INSERT INTO meters (serial, line, address, access, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.updateWhere = db.prepare<[string, string, string, number, string]>('UPDATE meters SET line = ?, address = ?, access = ?, updated_at = ? WHERE serial = ?');
    this.updateState = db.prepare<[Stage, Reachability, number | null, number | null, number, string, string | null, number, string]>(
      `UPDATE meters SET stage = ?, reachability = ?, last_seen = ?, silent_since = ?, unreachable_reported = ?, identity = ?, last_error = ?, updated_at = ?
       WHERE serial = ?`,
    );
    this.del = db.prepare<[string]>('DELETE FROM meters WHERE serial = ?');
  }

  get(serial: string): MeterRecord | undefined {
    const r = this.byId.get(serial);
    return r === undefined ? undefined : fromRow(r);
  }

  list(): MeterRecord[] {
    return this.all.all().map(fromRow);
  }

  /** Adds or changes one meter; a changed line or address puts it back to `registered`. */
  upsert(m: MeterConfig, source: MeterSource, now: number): 'added' | 'updated' | 'unchanged' {
    return write(this.db, `meter ${m.serial}`, () => this.upsertIn(m, source, now));
  }

  /** Applies the configuration's seed list in one transaction. */
  applySeed(meters: readonly MeterConfig[], now: number): SeedResult {
    const added: string[] = [];
    const updated: string[] = [];
    let unchanged = 0;
    write(this.db, 'the seed list of meters', () => {
      for (const m of meters) {
        const r = this.upsertIn(m, 'config', now);
        if (r === 'added') added.push(m.serial);
        else if (r === 'updated') updated.push(m.serial);
        else unchanged++;
      }
    });
    return { added, updated, unchanged };
  }

  private upsertIn(m: MeterConfig, source: MeterSource, now: number): 'added' | 'updated' | 'unchanged' {
    const access = JSON.stringify(accessOf(m));
    const have = this.byId.get(m.serial);
    if (have === undefined) {
      this.insert.run(m.serial, m.line, m.address, access, source, now, now);
      return 'added';
    }
    if (have.line === m.line && have.address === m.address && have.access === access) return 'unchanged';
    this.updateWhere.run(m.line, m.address, access, now, m.serial);
    if (have.line !== m.line || have.address !== m.address) this.saveStateIn(registeredMeter(m.serial), now);
    return 'updated';
  }

  saveState(s: MeterState, now: number): void {
    write(this.db, `the state of meter ${s.serial}`, () => this.saveStateIn(s, now));
  }

  /** For callers that already hold a transaction (state + effects stored together). */
  saveStateIn(s: MeterState, now: number): void {
    this.updateState.run(s.stage, s.reachability, s.lastSeen, s.silentSince, s.unreachableReported ? 1 : 0, JSON.stringify(s.identity), s.lastError, now, s.serial);
  }

  remove(serial: string): boolean {
    return write(this.db, `removal of meter ${serial}`, () => this.del.run(serial).changes > 0);
  }
}
