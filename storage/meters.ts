/**
 * The meter registry in SQLite: identity, line, address, access (client, mechanism,
 * credentials) and the tracked state of daemon/registry/state.ts. Seed lists from the
 * configuration are applied idempotently and never remove meters added otherwise.
 *
 * Secrets at rest: the access JSON keeps its public fields in clear and the secret ones
 * (SECRET_FIELDS: LLS password, HLS secret, keys) in one `sealed` value (storage/secret-box.ts,
 * bound to the serial). A repository given the SecretBox opens them for the daemon's sessions;
 * one without it (the CLI on the box, read-only) never sees them.
 */
import type { MeterConfig } from '../config/schema';
import type { MeterState, MeterIdentity, Reachability, Stage } from './meter-state';
import { registeredMeter } from './meter-state';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { write, type Db } from './db';
import { sealedKekId, type SecretBox } from './secret-box';

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

/** The access fields that are secrets: sealed at rest, never shown by the API, the HES or the CLI. */
export const SECRET_FIELDS = ['password', 'secret', 'keys'] as const;

/** The access record without its secrets. */
export function publicAccess(a: MeterAccess): MeterAccess {
  const hidden: ReadonlySet<string> = new Set([...SECRET_FIELDS, 'sealed']);
  return Object.fromEntries(Object.entries(a).filter(([k]) => !hidden.has(k))) as MeterAccess;
}

function secretsOf(a: Record<string, unknown>): Record<string, unknown> | undefined {
  const secrets = Object.fromEntries(SECRET_FIELDS.filter((f) => a[f] !== undefined).map((f) => [f, a[f]]));
  return Object.keys(secrets).length === 0 ? undefined : secrets;
}

function hasPlainSecrets(a: Record<string, unknown>): boolean {
  return SECRET_FIELDS.some((f) => f in a);
}

/** The access JSON as stored: public fields, and the secrets sealed for `serial`. */
function storedAccess(serial: string, access: MeterAccess, box: SecretBox | undefined): string {
  const secrets = secretsOf(access);
  if (secrets === undefined) return JSON.stringify(publicAccess(access));
  if (box === undefined) throw new DcuError(ErrorCode.Internal, `meter ${serial}: its secrets cannot be stored without the key-encryption key`);
  return JSON.stringify({ ...publicAccess(access), sealed: box.seal(JSON.stringify(secrets), serial) });
}

/** Opened secrets by serial and sealed value: list() of 1,024 meters would otherwise spend ~30 ms in AES-GCM each time. */
type Opened = Map<string, object>;
const MAX_OPENED = 16_384;

/** The access record of a stored row: secrets opened with `box`, left out without it. */
function accessFrom(serial: string, json: string, box: SecretBox | undefined, opened?: Opened): MeterAccess {
  const stored = JSON.parse(json) as Record<string, unknown>;
  if (box === undefined) return publicAccess(stored as MeterAccess);
  const sealed = stored.sealed;
  delete stored.sealed;
  if (typeof sealed !== 'string') return stored as MeterAccess; // no secrets, or a row sealAtRest() has not sealed yet
  const key = `${serial}\0${sealed}`;
  let secrets = opened?.get(key);
  if (secrets === undefined) {
    secrets = JSON.parse(box.open(sealed, serial)) as object;
    if (opened !== undefined) {
      if (opened.size >= MAX_OPENED) opened.clear();
      opened.set(key, secrets);
    }
  }
  return { ...stored, ...structuredClone(secrets) } as MeterAccess;
}

/** JSON with keys sorted at every level: the same access record gives the same text whatever its key order. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return v === undefined ? 'null' : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

function fromRow(r: Row, box: SecretBox | undefined, opened: Opened): MeterRecord {
  return {
    serial: r.serial,
    line: r.line,
    address: r.address,
    access: accessFrom(r.serial, r.access, box, opened),
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
  private readonly opened: Opened = new Map();

  /** `box`: the SecretBox of the KEK (the daemon); without it records carry no secrets and none can be stored. */
  constructor(
    private readonly db: Db,
    private readonly box?: SecretBox,
  ) {
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
    return r === undefined ? undefined : fromRow(r, this.box, this.opened);
  }

  list(): MeterRecord[] {
    return this.all.all().map((r) => fromRow(r, this.box, this.opened));
  }

  /**
   * At start: seals the secrets of rows that hold them in clear (a store written before
   * secrets were sealed), in one transaction, and checks every sealed row names this KEK.
   * Throws DcuError(SealedSecrets) naming the other KEK, changing nothing, when one does not.
   */
  sealAtRest(now: number): { sealed: number } {
    const box = this.requireBox('sealing');
    // read first: a store with nothing to seal is not written at all (a full disk, an unchanged start)
    const clear: Row[] = [];
    const others = new Map<string, string[]>();
    for (const r of this.all.all()) {
      const stored = JSON.parse(r.access) as Record<string, unknown>;
      if (typeof stored.sealed === 'string') {
        const id = sealedKekId(stored.sealed) ?? '?';
        if (id !== box.id) others.set(id, [...(others.get(id) ?? []), r.serial]);
      } else if (hasPlainSecrets(stored)) clear.push(r);
    }
    if (others.size > 0) {
      const which = [...others].map(([id, serials]) => `${serials.length} meter(s) with KEK ${id} (${serials.slice(0, 3).join(', ')}${serials.length > 3 ? ', …' : ''})`).join('; ');
      throw new DcuError(
        ErrorCode.SealedSecrets,
        `the meters' secrets in the store are sealed with another key-encryption key than this one (${box.id}): ${which}; give dcud the KEK they were sealed with (README, "Secrets at rest"), or re-register those meters`,
        { context: { kek: box.id, sealedWith: [...others.keys()].join(',') } },
      );
    }
    if (clear.length === 0) return { sealed: 0 };
    return this.overwritingOld(() =>
      write(this.db, 'the sealed secrets of the meters', () => {
        for (const r of clear) this.updateWhere.run(r.line, r.address, storedAccess(r.serial, JSON.parse(r.access) as MeterAccess, box), now, r.serial);
        return { sealed: clear.length };
      }),
    );
  }

  /** Seals every meter's secrets again with `next` in one transaction (`dcu keys rotate-kek`); the number of meters re-sealed. */
  resealWith(next: SecretBox, now: number): number {
    const box = this.requireBox('re-sealing');
    return this.overwritingOld(() => write(this.db, 'the secrets of the meters under a new key-encryption key', () => {
      let n = 0;
      for (const r of this.all.all()) {
        const stored = JSON.parse(r.access) as Record<string, unknown>;
        if (typeof stored.sealed !== 'string' && !hasPlainSecrets(stored)) continue;
        this.updateWhere.run(r.line, r.address, storedAccess(r.serial, accessFrom(r.serial, r.access, box), next), now, r.serial);
        n++;
      }
      return n;
    }));
  }

  /**
   * Runs fn with SQLite zeroing what it frees (secure_delete), then checkpoints the WAL into
   * the file: the values in clear (or sealed with the old KEK) that fn replaced are not left
   * behind in free space or in the WAL.
   */
  private overwritingOld<T>(fn: () => T): T {
    const before = this.db.pragma('secure_delete', { simple: true }) as number;
    this.db.pragma('secure_delete = ON');
    try {
      return fn();
    } finally {
      this.db.pragma(`secure_delete = ${before}`);
      if (this.db.pragma('journal_mode', { simple: true }) === 'wal') this.db.pragma('wal_checkpoint(TRUNCATE)');
    }
  }

  private requireBox(what: string): SecretBox {
    if (this.box === undefined) throw new DcuError(ErrorCode.Internal, `${what} the meters' secrets needs the key-encryption key`);
    return this.box;
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
    const wanted = accessOf(m);
    const have = this.byId.get(m.serial);
    if (have === undefined) {
      this.insert.run(m.serial, m.line, m.address, storedAccess(m.serial, wanted, this.box), source, now, now);
      return 'added';
    }
    // compared opened: a sealed value differs at every sealing (a fresh IV)
    if (have.line === m.line && have.address === m.address && canonical(accessFrom(m.serial, have.access, this.box)) === canonical(wanted)) return 'unchanged';
    this.updateWhere.run(m.line, m.address, storedAccess(m.serial, wanted, this.box), now, m.serial);
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
