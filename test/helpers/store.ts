/** Read-only peeks into a running daemon's store (WAL: never blocks it). */
import Database from 'better-sqlite3';

/** `SELECT count(*) AS n …` on the store; -1 while the file or the table is not there yet. */
export function countIn(store: string, sql: string): number {
  try {
    const db = new Database(store, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare(sql).get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return -1;
  }
}
