/** A real SQLite store with a registry and a PushHandler, on a FakeClock, for push tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LineConfig, MeterConfig } from '../../../config/schema';
import { PushHandler } from '../../../daemon/push/handler';
import { Registry } from '../../../daemon/registry/registry';
import { FakeClock } from '../../../protocol/common/clock';
import type { Logger } from '../../../protocol/common/log';
import { openStore, type Db } from '../../../storage/db';
import { EventLog } from '../../../storage/events';
import { MeterRepository } from '../../../storage/meters';
import { testSecretBox } from '../../helpers/store';
import { SIM_KEYS } from '../../../sim/types';

export const START = Date.UTC(2026, 10, 20, 12);

export const LINES: LineConfig[] = [
  { name: 'plc0', serial: { path: '/dev/null', baud: 9600, framing: 'hdlc', modeE: false }, timeout: '3s', retries: 3 },
  { name: 'ip', tcp: { framing: 'wrapper', concurrency: 8 }, timeout: '3s', retries: 3 },
];

const base = { client: 16, auth: 'none', gbt: true, deviationSign: 'blue-book' } as const;

/** SIM000000 on the serial line at 1/16 (plain); SIM000001 over IP with HLS and the sim's system title of index 1. */
export const METERS: MeterConfig[] = [
  { ...base, serial: 'SIM000000', line: 'plc0', address: '1/16' },
  {
    ...base,
    serial: 'SIM000001',
    line: 'ip',
    address: '127.0.0.1:5001',
    client: 1,
    auth: 'high-gmac',
    systemTitle: '4443553030303031',
    meterSystemTitle: '4443550000000001',
    keys: { blockKey: SIM_KEYS.blockKey, authKey: SIM_KEYS.authKey },
  },
];

export interface LogLine {
  readonly level: string;
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

export function recordingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, obj: (typeof obj === 'object' && obj !== null ? obj : {}) as Record<string, unknown>, msg: msg ?? String(obj) });
    };
  const logger: Logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

export interface PushRig {
  readonly dir: string;
  readonly db: Db;
  readonly clock: FakeClock;
  readonly meters: MeterRepository;
  readonly handler: PushHandler;
  readonly logs: LogLine[];
  /** A fresh handler on the same store (a restarted daemon). */
  restarted(): PushHandler;
  alarms(): { meter: string; code: string }[];
  outbox(): { stream: string; payload: unknown }[];
  close(): void;
}

export function pushRig(meters: readonly MeterConfig[] = METERS): PushRig {
  const dir = mkdtempSync(join(tmpdir(), 'dcu-push-'));
  const db = openStore(join(dir, 'dcu.sqlite'));
  const clock = new FakeClock(START);
  const repo = new MeterRepository(db, testSecretBox());
  repo.applySeed(meters, clock.now());
  const events = new EventLog(db);
  const registry = new Registry(db, repo, events, clock, { unreachableAfterMs: 72 * 3_600_000 });
  const logs: LogLine[] = [];
  const make = (): PushHandler => new PushHandler({ db, meters: repo, events, registry, lines: LINES, keysDir: '/nonexistent/dcu-keys', clock, logger: recordingLogger(logs) });
  const handler = make();
  return {
    dir,
    db,
    clock,
    meters: repo,
    handler,
    logs,
    restarted: make,
    alarms: () => db.prepare('SELECT meter, code FROM alarms ORDER BY id').all() as { meter: string; code: string }[],
    outbox: () => (db.prepare('SELECT stream, payload FROM outbox ORDER BY stream, seq').all() as { stream: string; payload: string }[]).map((r) => ({ stream: r.stream, payload: JSON.parse(r.payload) as unknown })),
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
