import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bench, Figure } from './harness';

/**
 * Memory and idle CPU of the real `dcud` process (the `collection-cycle` bench runs daemon and
 * simulator in one process, so its RSS is theirs together): `dcu-sim` (child process, 1,024
 * meters on 4 pty lines, no pacing) and `dcud` (child process) collecting one day of load
 * profile from every meter; peak RSS is the kernel's high-water mark (VmHWM) of dcud, idle CPU
 * its user+system time over a few seconds once the backlog is in.
 */

const METERS = Number(process.env.BENCH_DCUD_METERS ?? 1024);
const LINES = 4;

interface SimReport {
  lines: { index: number; device: string }[];
  meters: { serial: string; logicalDevice: number; physicalAddress: number; line?: { index: number } }[];
}

function procStatus(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** user + system CPU of a process, ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** dcud runs with the node flags of its shebang (and of systemd/dcud.service). */
export const DCUD_NODE_FLAGS = ['--max-semi-space-size=4'];

function start(script: string, args: string[], nodeFlags: readonly string[] = []): ChildProcess & { stdout: NodeJS.ReadableStream } {
  return spawn(process.execPath, [...nodeFlags, join(__dirname, '..', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function rows(store: string): number {
  if (!existsSync(store)) return 0;
  const db = new Database(store, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM profile_rows').get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const dcudMemoryBench: Bench = {
  name: 'dcud-memory',
  async run(): Promise<Figure[]> {
    const dir = mkdtempSync(join(tmpdir(), 'bench-dcud-'));
    const sim = start('sim/cli/dcu-sim.js', ['--meters', String(METERS), '--serial-lines', String(LINES), '--baud', '0', '--latency', '0', '--jitter', '0', '--profile-days', '2', '--json']);
    let dcud: ChildProcess | undefined;
    try {
      let out = '';
      sim.stdout.on('data', (d: Buffer) => (out += d.toString()));
      let report: SimReport | undefined;
      while (report === undefined) {
        await sleep(100);
        try {
          report = JSON.parse(out) as SimReport;
        } catch {
          // not complete yet
        }
      }
      const config = join(dir, 'dcu.yaml');
      writeFileSync(
        config,
        [
          'id: bench',
          `stateDir: ${join(dir, 'state')}`,
          'lines:',
          ...report.lines.map((l) => `  - { name: plc${l.index}, serial: { path: ${l.device}, baud: 9600 }, timeout: 2s }`),
          'meters:',
          ...report.meters.map((m) => `  - { serial: ${m.serial}, line: plc${m.line?.index ?? 0}, address: "${m.logicalDevice}/${m.physicalAddress}", client: 17, auth: low, password: "00000000" }`),
          'collection:',
          '  load-profile: { every: 1d, backfill: 1d }',
          '  clock: { every: 1d, enabled: false }',
          '',
        ].join('\n'),
      );
      const store = join(dir, 'state', 'dcu.sqlite');
      const t0 = performance.now();
      dcud = start('daemon/bin/dcud.js', ['--config', config, '--log-level', 'warn'], process.env.BENCH_DCUD_DEFAULT_HEAP === '1' ? [] : DCUD_NODE_FLAGS);
      const pid = dcud.pid ?? 0;
      const want = METERS * 96;
      let n = 0;
      while (n < want && performance.now() - t0 < 600_000) {
        await sleep(1000);
        n = rows(store);
      }
      const backlogS = (performance.now() - t0) / 1000;
      const afterBacklog = procStatus(pid, 'VmRSS');
      // idle: nothing is due for a day
      const c0 = cpuMs(pid);
      const i0 = performance.now();
      await sleep(5000);
      const idleMsPerS = (cpuMs(pid) - c0) / ((performance.now() - i0) / 1000);
      const peak = procStatus(pid, 'VmHWM');
      const detail = { meters: METERS, lines: LINES, rowsStored: n, rowsWanted: want, rssAfterBacklogMb: afterBacklog, nodeFlags: process.env.BENCH_DCUD_DEFAULT_HEAP === '1' ? [] : DCUD_NODE_FLAGS };
      return [
        { name: `dcud peak RSS (VmHWM), ${METERS} meters, 1-day backlog collected`, value: peak, unit: 'MB', goal: '≤ 150 MB', detail },
        { name: 'dcud time to collect the backlog (unpaced ptys: CPU-bound, not line-bound)', value: backlogS, unit: 's', detail },
        { name: 'dcud CPU between cycles (real idle)', value: idleMsPerS, unit: 'ms/s' },
      ];
    } finally {
      dcud?.kill('SIGTERM');
      sim.kill('SIGTERM');
      await sleep(500);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
