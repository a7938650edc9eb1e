/**
 * Meters speak first, real processes: dcud (child process) hears a simulated meter's push as
 * a UI frame on a socat pty line it is not reading from, and another meter's push over UDP;
 * both are alarms in its SQLite store with their outbox rows.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import type { SimMeter } from '../../sim/meter';
import { DIST } from '../helpers/cli';
import { until } from '../helpers/until';

const DCUD = join(DIST, 'daemon', 'bin', 'dcud.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function alarms(store: string): { meter: string; code: string }[] {
  if (!existsSync(store)) return [];
  const db = new Database(store, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT meter, code FROM alarms ORDER BY id').all() as { meter: string; code: string }[];
  } catch {
    return [];
  } finally {
    db.close();
  }
}

describe('dcud hears pushes (child process)', () => {
  let bus: RunningFleet;
  let ip: RunningFleet;
  let dir: string;
  let child: ChildProcess | undefined;
  let output = '';
  let udpPort: number;
  beforeAll(async () => {
    udpPort = await freePort();
    bus = await startFleet(parseFleetConfig({ meters: 2, serialLines: 1, baud: 38400, latencyMs: 5, push: { client: 16 } }, 'test'));
    ip = await startFleet(parseFleetConfig({ meters: 1, serialPrefix: 'TCP', tcpBasePort: await freePort(), push: { to: `udp://127.0.0.1:${udpPort}`, client: 16 } }, 'test'));
    dir = mkdtempSync(join(tmpdir(), 'dcud-push-'));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await bus.stop();
    await ip.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a UI frame on the serial line and a UDP datagram become alarms', async () => {
    const device = bus.lines[0]?.device ?? '';
    const meters = bus.endpoints.map((m) => `  - { serial: ${m.serial}, line: plc0, address: "${m.logicalDevice}/${m.physicalAddress}" }`);
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        'id: dcu-push',
        `stateDir: ${join(dir, 'state')}`,
        'lines:',
        `  - { name: plc0, serial: { path: ${device}, baud: 38400 } }`,
        '  - { name: ip, udp: {} }',
        'meters:',
        ...meters,
        `  - { serial: TCP000000, line: ip, address: "127.0.0.1:${ip.endpoints[0]?.tcp?.port ?? 1}" }`,
        `push: { udp: "127.0.0.1:${udpPort}" }`,
        '',
      ].join('\n'),
    );
    child = spawn(process.execPath, [DCUD, '--config', file, '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await until(() => output.includes('dcud started'), 'dcud started');
    const store = join(dir, 'state', 'dcu.sqlite');
    (bus.slots[1]?.meter as SimMeter).core.remote('disconnect');
    await until(() => alarms(store).length === 1, `the serial push stored\n${output}`);
    (ip.slots[0]?.meter as SimMeter).core.alarm |= 1 << 8;
    await until(() => alarms(store).length === 2, `the UDP push stored\n${output}`);
    expect(alarms(store)).toEqual([
      { meter: 'SIM000001', code: 'disconnected' },
      { meter: 'TCP000000', code: 'program-memory-error' },
    ]);
    const db = new Database(store, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM outbox WHERE stream = 'alarms'").get()).toEqual({ n: 2 });
    db.close();
    child.kill('SIGTERM');
    await new Promise((r) => child?.once('close', r));
    child = undefined;
  });
});
