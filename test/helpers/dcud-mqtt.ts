/**
 * dcud as deployed, for HES-side tests: a child process (dist/) with simulated meters on a
 * real serial line (socat pty, the fleet runs in the test process) and a real mosquitto.
 * Collection is off unless `collection` says otherwise, so the store changes only through
 * what the test asks.
 *
 *   const d = await startDcudMqtt({ id: 'dcu-cmd', meters: 2 });
 *   ... mqtt.connectAsync(d.broker.url) ... d.dump() ...
 *   await d.close();
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_CLASSES } from '../../config/schema';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { DIST } from './cli';
import { startMosquitto, type Mosquitto, type MosquittoOptions } from './mosquitto';

export interface DcudMqttOptions {
  readonly id: string;
  readonly meters: number;
  /** YAML lines of the `collection` section (indented by 2); default: every class off. */
  readonly collection?: readonly string[];
  /** Extra keys of the `mqtt` section, YAML flow style (e.g. `protocol: "3.1.1"`). */
  readonly mqtt?: string;
  readonly broker?: MosquittoOptions;
  /** Simulated meter capture period (sim fleet option), e.g. for a backlog. */
  readonly fleet?: Record<string, unknown>;
}

export interface DcudMqtt {
  readonly broker: Mosquitto;
  readonly fleet: RunningFleet;
  readonly serials: readonly string[];
  readonly store: string;
  readonly dir: string;
  /** dcud's stdout + stderr so far. */
  output(): string;
  /** Starts dcud (again); resolves at once. */
  start(): void;
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>;
  /** Every table's rows (ordered), read-only: the store's logical content. */
  dump(): string;
  /** One number from the store (-1 while it cannot be read). */
  count(sql: string): number;
  close(): Promise<void>;
}

export async function startDcudMqtt(o: DcudMqttOptions): Promise<DcudMqtt> {
  const fleet = await startFleet(parseFleetConfig({ meters: o.meters, serialLines: 1, baud: 38400, latencyMs: 5, ...o.fleet }, 'test'));
  const broker = await startMosquitto(o.broker);
  const dir = mkdtempSync(join(tmpdir(), `${o.id}-`));
  const store = join(dir, 'state', 'dcu.sqlite');
  const device = fleet.lines[0]?.device ?? '';
  const meters = fleet.endpoints.map((m) => `  - { serial: ${m.serial}, line: plc0, address: "${m.logicalDevice}/${m.physicalAddress}", client: 17, auth: low, password: "00000000" }`);
  const collection = o.collection ?? DATA_CLASSES.map((c) => `  ${c}: { every: 1d, enabled: false }`);
  const file = join(dir, 'dcu.yaml');
  writeFileSync(
    file,
    [`id: ${o.id}`, `stateDir: ${join(dir, 'state')}`, `mqtt: { url: "${broker.url}", keepalive: 30s${o.mqtt === undefined ? '' : `, ${o.mqtt}`} }`, `lines:`, `  - { name: plc0, serial: { path: ${device}, baud: 38400 }, timeout: 2s }`, `meters:`, ...meters, `collection:`, ...collection, ''].join('\n'),
  );
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);
  let out = '';
  const start = (): void => {
    const c = spawn(process.execPath, [join(DIST, 'daemon', 'bin', 'dcud.js'), '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    exited = new Promise((resolve) => c.on('close', (code) => resolve(code)));
    child = c;
  };
  const stop = async (): Promise<number | null> => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGTERM');
    child = undefined;
    return exited;
  };
  const read = <T>(f: (db: Database.Database) => T): T => {
    const db = new Database(store, { readonly: true, fileMustExist: true });
    try {
      return f(db);
    } finally {
      db.close();
    }
  };
  start();
  return {
    broker,
    fleet,
    serials: fleet.endpoints.map((m) => m.serial),
    store,
    dir,
    output: () => out,
    start,
    stop,
    dump: () =>
      read((db) => {
        const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
        const parts = [`user_version=${String(db.pragma('user_version', { simple: true }))}`];
        for (const t of tables) {
          const order = (db.prepare(`PRAGMA table_info("${t}")`).all()).map((_c, i) => i + 1).join(', ');
          parts.push(`${t}: ${JSON.stringify(db.prepare(`SELECT * FROM "${t}" ORDER BY ${order}`).raw().all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : typeof v === 'bigint' ? String(v) : v))}`);
        }
        return parts.join('\n');
      }),
    count: (sql) => {
      try {
        return read((db) => (db.prepare(sql).get() as { n: number }).n);
      } catch {
        return -1;
      }
    },
    close: async () => {
      await stop();
      await broker.close();
      await fleet.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
