/**
 * The simulator's state directory: one JSON file per meter (<serial>.json) holding its
 * snapshot(). Writes are atomic (temporary file + rename), so a crash mid-save leaves the
 * previous state, never half a file.
 */
import { readFileSync } from 'node:fs';
import { rename, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { ensureDirectory } from '../common/ensure-dir';

export class StateStore {
  constructor(readonly dir: string) {}

  /** Creates the directory; throws DcuError(Storage) when it cannot (never spins, even on /proc). */
  init(): void {
    ensureDirectory(this.dir);
  }

  fileOf(serial: string): string {
    return join(this.dir, `${serial}.json`);
  }

  /** The saved state, undefined when there is none; throws DcuError(Storage) for an unreadable file. */
  load(serial: string): unknown {
    const file = this.fileOf(serial);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
      throw new DcuError(ErrorCode.Storage, `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, context: { path: file } });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new DcuError(ErrorCode.Storage, `${file} is not valid JSON (delete it to start the meter afresh)`, { cause: e, context: { path: file } });
    }
  }

  /** Writes the state atomically. */
  async save(serial: string, state: unknown): Promise<void> {
    const file = this.fileOf(serial);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(state));
      await rename(tmp, file);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw new DcuError(ErrorCode.Storage, `cannot save ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, context: { path: file } });
    }
  }
}
