/** Read-only peeks into a running daemon's store (WAL: never blocks it). */
import Database from 'better-sqlite3';
import { SecretBox } from '../../storage/secret-box';

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

/** A SecretBox with a fixed test KEK, for repositories that store meters with secrets. */
export function testSecretBox(): SecretBox {
  return new SecretBox(Buffer.alloc(32, 7));
}
