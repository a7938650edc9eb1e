/**
 * Durable ingest into the store, batched as the collector writes it: one transaction per
 * range read (a day of 15-min load profile: 96 rows × 4 energy channels + status), with its
 * watermark and outbox message, on a real file with synchronous=FULL (every commit reaches
 * the disk). Values = stored numbers (cells + status).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../storage/db';
import { ReadingsStore, type StoredRow } from '../storage/readings';
import type { Bench, Figure } from './harness';

const ROWS_PER_READ = 96;
const CHANNELS = 4;
const COLUMNS = [
  { capture: '1:0.0.96.10.1.255:2' },
  ...['1.8.0', '2.8.0', '3.8.0', '4.8.0'].map((c, i) => ({ capture: `3:1.0.${c}.255:2`, unit: i < 2 ? 'Wh' : 'varh' })),
];

function day(meter: number, dayIndex: number): StoredRow[] {
  const start = Date.UTC(2026, 0, 1) + dayIndex * 86_400_000;
  return Array.from({ length: ROWS_PER_READ }, (_, r) => ({
    capturedAt: start + (r + 1) * 900_000,
    status: 0,
    cells: Array.from({ length: CHANNELS + 1 }, (_, c) => (c === 0 ? '0' : String(meter * 1_000_000 + dayIndex * 1000 + r * 10 + c))),
  }));
}

export const storeIngestBench: Bench = {
  name: 'store-ingest',
  run(): Figure[] {
    const dir = mkdtempSync(join(tmpdir(), 'dcu-bench-ingest-'));
    try {
      const db = openStore(join(dir, 'dcu.sqlite'));
      const store = new ReadingsStore(db);
      const meters = 200;
      const days = 3;
      let values = 0;
      let transactions = 0;
      const started = performance.now();
      for (let d = 0; d < days; d++) {
        for (let m = 0; m < meters; m++) {
          const rows = day(m, d);
          store.storeProfileRows({ meter: `M${m}`, profile: '1.0.99.1.0.255', stream: 'load-profile', columns: COLUMNS, rows, collectedTo: rows[rows.length - 1]?.capturedAt ?? 0 }, Date.now());
          values += rows.length * (CHANNELS + 1);
          transactions++;
        }
      }
      const seconds = (performance.now() - started) / 1000;
      db.close();
      return [
        { name: 'durable values/s (synchronous=FULL, one transaction per 1-day read)', value: values / seconds, unit: 'values/s', goal: '≥ 300000', detail: { values, transactions, seconds } },
        { name: 'durable transactions/s (rows + watermark + outbox each)', value: transactions / seconds, unit: 'tx/s' },
        { name: 'per 1-day read of one meter', value: (seconds * 1000) / transactions, unit: 'ms' },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
