/**
 * Opening the store at start, with the checks a power-cut-prone box needs before it sends
 * anything: `PRAGMA quick_check` (a malformed file is moved aside, kept for forensics, and a
 * fresh store started) and the high-water file (a store that went back — rebuilt from a
 * partial WAL, truncated, restored, replaced — is found). Either way the store gets a new
 * incarnation, so no envelope id is ever reused, its sequences are raised to the mark, and
 * the caller raises a `store-corrupt` alarm from the finding before anything else is sent.
 */
import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { isCorruptError, openStore, write, type Db, type OpenOptions } from './db';
import { HIGH_WATER_FILE, HighWater, readHighWater, type HighWaterMark } from './high-water';
import { newIncarnation } from './migrations/014-store-identity';

export interface StoreFinding {
  /** malformed: quick_check failed; rewound: a sequence is below the mark; replaced: not the store the mark describes. */
  readonly kind: 'malformed' | 'rewound' | 'replaced';
  readonly detail: string;
  /** Where the malformed file went. */
  readonly movedTo?: string;
  readonly previousIncarnation?: string;
}

export interface CheckedStore {
  readonly db: Db;
  readonly incarnation: string;
  readonly highWater: HighWater;
  readonly finding?: StoreFinding;
}

/** undefined when sound; what is wrong otherwise. Errors that are not about the file's content (locks, a full disk) are thrown. */
function quickCheck(path: string, exclusive: boolean): string | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: 5000 });
    if (exclusive) db.pragma('locking_mode = EXCLUSIVE');
    const bad = (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check).filter((r) => r !== 'ok');
    return bad.length === 0 ? undefined : bad.slice(0, 3).join('; ');
  } catch (e) {
    if (isCorruptError(e)) return (e as Error).message;
    throw new DcuError(ErrorCode.Storage, `cannot check the store ${path}: ${(e as Error).message}`, { cause: e, context: { path } });
  } finally {
    db?.close();
  }
}

function moveAside(path: string, now: number): string {
  const to = `${path}.malformed-${new Date(now).toISOString().replace(/[:.]/g, '')}`;
  renameSync(path, to);
  if (existsSync(`${path}-wal`)) renameSync(`${path}-wal`, `${to}-wal`);
  rmSync(`${path}-shm`, { force: true });
  return to;
}

const nextSeqs = (db: Db): Map<string, number> => new Map(db.prepare<[], { stream: string; next_seq: number }>('SELECT stream, next_seq FROM outbox_streams').all().map((r) => [r.stream, r.next_seq]));

function compare(db: Db, incarnation: string, mark: HighWaterMark): StoreFinding | undefined {
  if (mark.incarnation !== incarnation) {
    return { kind: 'replaced', previousIncarnation: mark.incarnation, detail: `the store is not the one the high-water file describes (incarnation ${incarnation}, the file says ${mark.incarnation}): it was deleted, replaced or restored` };
  }
  const have = nextSeqs(db);
  const behind = Object.entries(mark.streams).filter(([s, seq]) => (have.get(s) ?? 1) < seq);
  if (behind.length === 0) return undefined;
  const what = behind.map(([s, seq]) => `${s} ${(have.get(s) ?? 1) - 1} < ${seq - 1}`).join(', ');
  return { kind: 'rewound', previousIncarnation: mark.incarnation, detail: `the store went back (last seq ${what}): it was rebuilt from a partial journal or restored, and data it held is lost` };
}

/** Opens the store at `path` with the start-up checks; `now` names a file moved aside. */
export function openCheckedStore(path: string, options: OpenOptions & { readonly now: number }): CheckedStore {
  const hwmPath = join(dirname(path), HIGH_WATER_FILE);
  const mark = readHighWater(hwmPath);
  let finding: StoreFinding | undefined;
  if (existsSync(path)) {
    const problem = quickCheck(path, options.exclusive === true);
    if (problem !== undefined) {
      const movedTo = moveAside(path, options.now);
      finding = { kind: 'malformed', movedTo, ...(mark === undefined ? {} : { previousIncarnation: mark.incarnation }), detail: `the store was malformed (${problem}): moved aside to ${movedTo}, a fresh store started` };
    }
  }
  const db = openStore(path, options);
  try {
    let incarnation = (db.prepare('SELECT incarnation FROM store_identity').get() as { incarnation: string } | undefined)?.incarnation ?? '';
    finding ??= mark === undefined ? undefined : compare(db, incarnation, mark);
    if (finding !== undefined) {
      incarnation = newIncarnation();
      const reason = finding.kind === 'rewound' ? 'rewound' : 'replaced';
      write(db, 'the new store incarnation', () => {
        db.prepare('INSERT INTO store_identity (one, incarnation, reason) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET incarnation = excluded.incarnation, reason = excluded.reason').run(incarnation, reason);
        // seqs never go back either: the new incarnation goes on from the mark
        const raise = db.prepare('INSERT INTO outbox_streams (stream, next_seq) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET next_seq = max(next_seq, excluded.next_seq)');
        for (const [s, seq] of Object.entries(mark?.streams ?? {})) raise.run(s, seq);
      });
    }
    const highWater = new HighWater(hwmPath, db, incarnation);
    return { db, incarnation, highWater, ...(finding === undefined ? {} : { finding }) };
  } catch (e) {
    db.close();
    throw e;
  }
}
