/**
 * The README's main command (`npm start`) as a newcomer runs it, driven through stdin: dcud
 * reads the simulated meters and the HES console prints data within 60 s; with the WAN cut
 * the outbox grows, restored it drains in seq order with no gap; SIGINT (Ctrl-C) stops
 * everything, and no process the demo started is left.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, runCli } from '../../helpers/cli';
import { until } from '../../helpers/until';

/** Every live descendant of pid (from /proc). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parent) if (pp === p) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

interface Received {
  readonly at: number;
  readonly stream: string;
  readonly first: number;
  readonly last: number;
}

it('shows data at the HES within 60 s, a backlog while the WAN is down that drains in order, and stops clean', async () => {
  const started = Date.now();
  const env = { ...process.env, DCU_DEMO_BAUD: '115200', DCU_DEMO_SOCKET: join(tmpdir(), `dcu-demo-test-${process.pid}.sock`) };
  const child = spawn(process.execPath, [join(DIST, 'sim', 'cli', 'demo.js')], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const lines = (): string[] => out.split('\n');
  const received = (): Received[] =>
    lines().flatMap((l, at) => {
      const m = /HES ← data\/(\S+)\s+seq (\d+)(?:-(\d+))?/.exec(l);
      return m === null ? [] : [{ at, stream: m[1]!, first: Number(m[2]), last: Number(m[3] ?? m[2]) }];
    });
  const explain = (e: unknown): never => {
    throw new Error(`${String(e)}\n${out.slice(-4000)}`);
  };
  const pids = new Set<number>();
  try {
    const table = /SIM000000 +plc0 +1\/16 +commissioned\/reachable +[\d.]+ kWh +\d+/;
    await until(() => /dcud: read \d+ meters \(.*\): [1-9]\d* EXE/.test(out) && /HES ← data\/load-profile +seq 1/.test(out) && table.test(out), 'meters read and load profiles at the HES', 60_000).catch(explain);
    expect(Date.now() - started).toBeLessThan(60_000);
    for (const p of descendants(child.pid!)) pids.add(p);
    expect(pids.size).toBeGreaterThanOrEqual(4); // dcud, mosquitto, socat per line

    // the WAN is cut from another terminal, restored with a line on stdin (the `w` key at a terminal)
    const cut = await runCli('dcu', ['demo', 'wan', 'down'], 20_000, env);
    expect({ code: cut.code, stdout: cut.stdout.trim(), stderr: cut.stderr }).toEqual({ code: 0, stdout: 'WAN down', stderr: '' });
    await until(() => out.includes('WAN down:'), 'the WAN cut').catch(explain);
    // readings go on: the next cycles store into the outbox, nothing reaches the HES
    const backlog = (): number[] => [...out.matchAll(/outbox: (\d+) messages waiting/g)].map((m) => Number(m[1]));
    await until(() => backlog().some((n, i) => n > (backlog()[0] ?? 0) && i > 0), 'a growing outbox (the next collection cycle)', 150_000).catch(explain);
    const downAt = lines().findIndex((l) => l.includes('WAN down'));
    const beforeUp = received().length;

    child.stdin.write('wan up\n');
    await until(() => out.includes('outbox drained'), 'the outbox drained', 90_000).catch(explain);
    const after = received().slice(beforeUp);
    expect(after.length).toBeGreaterThan(0);
    for (const p of descendants(child.pid!)) pids.add(p);

    // per stream: no gap ever, and the backlog arrives in seq order (a re-send repeats a seq, never jumps back past it)
    const streams = new Set(received().map((r) => r.stream));
    for (const s of streams) {
      let top = 0;
      for (const r of received().filter((x) => x.stream === s)) {
        expect({ stream: s, first: r.first, gap: r.first > top + 1 }).toEqual({ stream: s, first: r.first, gap: false });
        top = Math.max(top, r.last);
      }
      const drained = after.filter((x) => x.stream === s).map((x) => x.first);
      expect(drained).toEqual([...drained].sort((a, b) => a - b));
    }
    expect(received().filter((r) => r.at > downAt).length).toBeGreaterThan(0);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  expect(out).toMatch(/stopped; nothing left running/);
  const left = [...pids].filter(alive);
  expect(left).toEqual([]);
  expect(existsSync(env.DCU_DEMO_SOCKET)).toBe(false);
  const none = await runCli('dcu', ['demo', 'wan', 'up'], 20_000, env);
  expect(none.code).toBe(3);
  expect(none.stderr).toMatch(/no demo is running .* start it with `npm start`/);
}, 330_000);
