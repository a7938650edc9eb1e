import { startVirtualDcu, type VirtualDcu } from './virtual-dcu';
import type { Bench, Figure } from './harness';

/**
 * One collection cycle of dcud over a 1,024-meter fleet on 4 virtual 9,600-baud multi-drop
 * lines (bench/virtual-dcu.ts: the real daemon and simulator in one process on a FakeClock,
 * both directions paced at the line rate, so virtual time is line time). Every meter has a
 * day of load profile to catch up. The cycle time is compared with the line-rate lower
 * bound: every byte that moved on a line (requests and answers, half duplex) at 10 bits per
 * byte, lines in parallel, so the busiest line's bytes. The rest of the cycle is turnaround
 * (the meters' latency before each answer) and time-outs. Then a steady cycle (one new
 * interval per meter), the peak RSS of the process (daemon and simulator together), and the
 * CPU the process burns between cycles: over a virtual idle stretch, and over real seconds
 * with nothing scheduled.
 */

const METERS = 1024;
const LINES = 4;
const BAUD = 9600;
const LATENCY_MS = 20;
const JITTER_MS = 5;
const START = Date.UTC(2026, 2, 2, 0, 7);

interface LineTotals {
  bytes: number;
  requests: number;
}

function lineTotals(v: VirtualDcu): LineTotals[] {
  return v.lines.stats().map((s) => ({ bytes: s.bytesToMeters + s.bytesFromMeters, requests: s.requests }));
}

function delta(after: LineTotals[], before: LineTotals[]): LineTotals[] {
  return after.map((a, i) => ({ bytes: a.bytes - (before[i]?.bytes ?? 0), requests: a.requests - (before[i]?.requests ?? 0) }));
}

/** Runs one cycle of load-profile collection; its virtual duration and what moved on each line. */
async function cycle(v: VirtualDcu): Promise<{ ms: number; lines: LineTotals[]; fail: number }> {
  const before = lineTotals(v);
  const t0 = v.clock.now();
  const outcomes = await v.runWhile(v.daemon.collector.runCycle(['load-profile']));
  return { ms: v.clock.now() - t0, lines: delta(lineTotals(v), before), fail: outcomes.filter((o) => o.status === 'FAIL').length };
}

function bound(lines: LineTotals[]): { ms: number; busiest: LineTotals } {
  const busiest = lines.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { ms: (busiest.bytes * 10 * 1000) / BAUD, busiest };
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

/** Environment knobs for experiments (defaults are the bench): BENCH_CC_HDLC="maxInfo/window". */
function hdlcFromEnv(): { maxInfoTx: number; maxInfoRx: number; windowTx: number; windowRx: number } | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(process.env['BENCH_CC_HDLC'] ?? '');
  if (m === null) return undefined;
  const info = Number(m[1]);
  const window = Number(m[2]);
  return { maxInfoTx: info, maxInfoRx: info, windowTx: window, windowRx: window };
}

export const collectionCycleBench: Bench = {
  name: 'collection-cycle',
  async run(): Promise<Figure[]> {
    const mb = (n: number): number => Math.round(n / 1048576);
    const hdlc = hdlcFromEnv();
    const rssBefore = mb(process.memoryUsage().rss);
    const v = await startVirtualDcu({
      start: START,
      meters: METERS,
      lines: LINES,
      baud: BAUD,
      latencyMs: LATENCY_MS,
      jitterMs: JITTER_MS,
      profileDepthDays: 2,
      ...(hdlc === undefined ? {} : { hdlc }),
      line: { timeout: '3s' },
      config: { collection: { 'load-profile': { every: '15m', backfill: '1d' } } },
    });
    try {
      const rssStarted = mb(process.memoryUsage().rss);
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      const backlog = await cycle(v);
      const backlogCpu = cpuMs(process.cpuUsage(cpu0));
      const backlogWall = performance.now() - wall0;
      const afterBacklog = process.memoryUsage();
      const b = bound(backlog.lines);
      const perMeter = (x: number): number => (x * LINES) / METERS;

      // The next quarter hour: one new interval per meter (metadata cached, meters commissioned).
      await v.runUntil(Math.ceil(v.clock.now() / 900_000) * 900_000 + 60_000);
      const steady = await cycle(v);
      const sb = bound(steady.lines);

      // Idle: a virtual hour with no cycle scheduled (the collector's timers are not started),
      // then three real seconds with the clock standing still.
      const idleCpu0 = process.cpuUsage();
      await v.runUntil(v.clock.now() + 3_600_000);
      const idleVirtualCpu = cpuMs(process.cpuUsage(idleCpu0));
      const realCpu0 = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 3000));
      const idleRealCpu = cpuMs(process.cpuUsage(realCpu0)) / 3;
      const rssMb = process.resourceUsage().maxRSS / 1024;

      const detail = {
        meters: METERS,
        lines: LINES,
        baud: BAUD,
        hdlc: hdlc ?? 'simulator default (128 B, window 1)',
        latencyMs: LATENCY_MS,
        jitterMs: JITTER_MS,
        failed: backlog.fail,
        cycleS: backlog.ms / 1000,
        boundS: b.ms / 1000,
        busiestLineBytes: b.busiest.bytes,
        busiestLineRequests: b.busiest.requests,
        bytesPerMeter: Math.round(perMeter(backlog.lines.reduce((s, l) => s + l.bytes, 0) / LINES)),
        requestsPerMeter: perMeter(backlog.lines.reduce((s, l) => s + l.requests, 0) / LINES),
        turnaroundS: (b.busiest.requests * (LATENCY_MS + JITTER_MS / 2)) / 1000,
        cpuS: backlogCpu / 1000,
        wallS: backlogWall / 1000,
      };
      return [
        { name: 'backlog cycle (1 day each), virtual time', value: backlog.ms / 1000, unit: 's', detail },
        { name: 'backlog cycle ÷ line-rate lower bound (busiest line)', value: backlog.ms / b.ms, unit: '×', goal: '≤ 1.2', detail },
        {
          name: 'steady cycle (1 new interval each) ÷ line-rate bound',
          value: steady.ms / sb.ms,
          unit: '×',
          detail: { cycleS: steady.ms / 1000, boundS: sb.ms / 1000, failed: steady.fail, bytesPerMeter: Math.round((sb.busiest.bytes * LINES) / METERS), requestsPerMeter: (sb.busiest.requests * LINES) / METERS },
        },
        {
          name: 'peak RSS of the process (dcud + simulator + SQLite)',
          value: rssMb,
          unit: 'MB',
          goal: '≤ 150 MB',
          detail: { rssBeforeMb: rssBefore, rssStartedMb: rssStarted, rssAfterBacklogMb: mb(afterBacklog.rss), heapUsedMb: mb(afterBacklog.heapUsed), heapTotalMb: mb(afterBacklog.heapTotal), externalMb: mb(afterBacklog.external), metersCreated: v.fleet.stats().created },
        },
        { name: 'CPU between cycles, per virtual hour (no cycle due)', value: idleVirtualCpu, unit: 'ms' },
        { name: 'CPU between cycles, real idle', value: idleRealCpu, unit: 'ms/s' },
        { name: 'CPU for the backlog cycle (daemon + simulator)', value: backlogCpu / 1000, unit: 's', detail: { wallS: backlogWall / 1000 } },
      ];
    } finally {
      await v.stop();
    }
  },
};
