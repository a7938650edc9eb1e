/**
 * `dcu export` on the box streams from SQLite in chunks (flat memory however long the range):
 * several thousand rows come out as CSV and as JSON equal to the store, with the chunk
 * boundaries invisible (one header, no blank line, JSON that parses).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportRows } from '../../daemon/export';
import { openStore } from '../../storage/db';
import { runCli } from '../helpers/cli';

const ROWS = 2_345;
const T0 = Date.UTC(2026, 5, 1);

describe('dcu export on the box', () => {
  let dir: string;
  let expected: ReturnType<typeof exportRows>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-export-'));
    const db = openStore(join(dir, 'dcu.sqlite'));
    const insert = db.prepare('INSERT INTO events (meter, code, detail, at) VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < ROWS; i++) insert.run(`SIM${String(i % 7).padStart(6, '0')}`, 'power-down', `row ${i}, "quoted", with commas`, T0 + i * 60_000);
    })();
    expected = exportRows(db, 'events', T0, T0 + ROWS * 60_000, undefined);
    db.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const range = ['--from', new Date(T0).toISOString(), '--to', new Date(T0 + ROWS * 60_000).toISOString()];

  it('writes every row as CSV, one header, no blank line', async () => {
    const r = await runCli('dcu', ['export', '--class', 'events', ...range, '--state', dir]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1)).toHaveLength(ROWS + 1);
    expect(lines[0]).toBe('meter,at,code,detail');
    expect(lines[1]).toBe(`SIM000000,${new Date(T0).toISOString()},power-down,"row 0, ""quoted"", with commas"`);
    expect(lines.filter((l) => l === '')).toHaveLength(1);
  });

  it('writes JSON that parses to the same rows', async () => {
    const r = await runCli('dcu', ['export', '--class', 'events', '--format', 'json', ...range, '--state', dir]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { class: string; columns: string[]; rows: unknown[][] };
    expect(doc.class).toBe('events');
    expect(doc.columns).toEqual(expected.header);
    expect(doc.rows).toEqual(expected.rows);
  });
});
