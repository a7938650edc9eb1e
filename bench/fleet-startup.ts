import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DlmsClient } from '../protocol/client/client';
import { readClock } from '../protocol/client/reads';
import { MultidropLine } from '../protocol/transport/multidrop';
import { SerialTransport } from '../protocol/transport/serial';
import type { Bench, Figure } from './harness';

/**
 * Start-up time and memory of a 1,024-meter simulator fleet, measured on the real binary:
 * `dcu-sim --meters 1024 --serial-lines 4 --json` as a child process; time until it prints
 * its endpoints, then VmRSS from /proc. Then every meter is associated once (public client,
 * clock read) over the four lines and RSS is read again: meters are built on first use.
 */

interface SimReport {
  lines: { index: number; device: string }[];
  meters: { index: number; physicalAddress: number; line?: { index: number; device: string; addressSize: 2 | 4 } }[];
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

function startSim(args: string[]): Promise<{ child: ChildProcess; report: SimReport; ms: number }> {
  const script = join(__dirname, '..', 'sim', 'cli', 'dcu-sim.js');
  const t0 = performance.now();
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }) as ChildProcess & { stdout: NodeJS.ReadableStream };
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      try {
        const report = JSON.parse(out) as SimReport;
        resolve({ child, report, ms: performance.now() - t0 });
      } catch {
        // not complete yet
      }
    });
    child.on('exit', (code) => reject(new Error(`dcu-sim exited with ${code}`)));
  });
}

export const fleetStartupBench: Bench = {
  name: 'fleet-startup',
  async run(): Promise<Figure[]> {
    const { child, report, ms } = await startSim(['--meters', '1024', '--serial-lines', '4', '--baud', '0', '--latency', '0', '--jitter', '0', '--json']);
    const pid = child.pid ?? 0;
    const idle = rssMb(pid);
    const t1 = performance.now();
    let ok = 0;
    try {
      await Promise.all(
        report.lines.map(async (line) => {
          const md = new MultidropLine(new SerialTransport({ path: line.device, baudRate: 9600 }));
          try {
            for (const ep of report.meters.filter((e) => e.line?.index === line.index)) {
              const server = { logical: 1, physical: ep.physicalAddress, size: ep.line?.addressSize ?? 2 };
              const session = await md.acquire({ server, client: 16 });
              const client = new DlmsClient(session, { framing: 'hdlc', clientAddress: 16, serverAddress: server, responseTimeoutMs: 2000, retries: 1 });
              try {
                await client.connect();
                await readClock(client);
                ok++;
              } finally {
                await client.close();
              }
            }
          } finally {
            await md.close();
          }
        }),
      );
    } finally {
      const busy = rssMb(pid);
      child.kill('SIGTERM');
      figuresHolder.busy = busy;
    }
    const touchS = (performance.now() - t1) / 1000;
    return [
      { name: 'dcu-sim start-up, 1,024 meters on 4 serial lines', value: ms / 1000, unit: 's', goal: '< 10 s' },
      { name: 'RSS after start-up (meters not yet used)', value: idle, unit: 'MB', goal: '< 200 MB' },
      { name: 'RSS after every meter answered once', value: figuresHolder.busy, unit: 'MB', goal: '< 200 MB', detail: { metersRead: ok } },
      { name: 'associate + clock read + release, all 1,024 meters (4 lines in parallel, unpaced)', value: touchS, unit: 's' },
    ];
  },
};

const figuresHolder = { busy: NaN };
