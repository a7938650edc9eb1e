/**
 * dcud under systemd's notify protocol, without systemd: the test listens on a Unix datagram
 * socket (python3, as systemd would) named by NOTIFY_SOCKET, with WATCHDOG_USEC=1 s. dcud says
 * READY=1 once serving, WATCHDOG=1 while its loops progress, withholds the pings when the
 * scheduler loop is stalled on purpose (DCUD_TEST_HOOKS=1 + SIGUSR2), and says STOPPING=1 on
 * SIGTERM before it exits 0. On SIGHUP it says RELOADING=1 (with MONOTONIC_USEC) then READY=1:
 * a new meter list is applied, a change that needs a restart is named in a warning, and a bad
 * configuration leaves it running on the old one with the problem logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST } from '../helpers/cli';
import { until } from '../helpers/until';

const DCUD = join(DIST, 'daemon', 'bin', 'dcud.js');

/** Prints each datagram as one line (newlines as `|`); closes passed descriptors (systemd-notify's barrier waits for that). */
const LISTENER = `
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(64))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(msg.decode().strip().replace("\\n", "|"), flush=True)
`;

describe('dcud speaks sd_notify', () => {
  let dir: string;
  let listener: ChildProcess;
  const got: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dcud-notify-'));
    listener = spawn('python3', ['-c', LISTENER, join(dir, 'notify.sock')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    listener.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      got.push(...lines);
    });
    await until(() => got.includes('listening'), 'the notify socket listener');
  });
  afterAll(() => {
    listener.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('READY=1 after start, WATCHDOG=1 while healthy, none while the scheduler is stalled, STOPPING=1 on SIGTERM', async () => {
    const file = join(dir, 'dcu.yaml');
    writeFileSync(file, `id: dcu-notify\nstateDir: ${join(dir, 'state')}\n`);
    const child = spawn(process.execPath, [DCUD, '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: join(dir, 'notify.sock'), WATCHDOG_USEC: '1000000', DCUD_TEST_HOOKS: '1' },
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const seen = (re: RegExp): number => got.filter((m) => re.test(m)).length;
    const explain = (e: unknown): never => {
      throw new Error(`${String(e)}\nreceived: ${got.join('\n')}\ndcud: ${log.slice(-2000)}`);
    };
    try {
      await until(() => seen(/^READY=1\|STATUS=0 meters/) === 1, 'READY=1', 30_000).catch(explain);
      // started, then healthy: pings keep coming, each with the status summary
      await until(() => seen(/^WATCHDOG=1\|STATUS=.*outbox 0/) >= 3, 'three WATCHDOG=1', 30_000).catch(explain);
      expect(got.findIndex((m) => m.startsWith('READY=1'))).toBeLessThan(got.findIndex((m) => m.startsWith('WATCHDOG=1')));

      child.kill('SIGUSR2');
      await until(() => seen(/^STATUS=stalled: scheduler: stopped looking at the job queue$/) >= 1, 'the stalled status', 30_000).catch(explain);
      const stalledAt = got.findIndex((m) => m.startsWith('STATUS=stalled'));
      // three more watchdog periods pass (each says it is stalled), and not one ping among them
      await until(() => seen(/^STATUS=stalled/) >= 4, 'four stalled periods', 30_000).catch(explain);
      expect(got.slice(stalledAt).filter((m) => m.startsWith('WATCHDOG=1'))).toEqual([]);
      expect(log).toMatch(/watchdog pings withheld/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    await until(() => seen(/^STOPPING=1\|STATUS=stopping \(SIGTERM\)$/) === 1, 'STOPPING=1').catch(explain);
  }, 120_000);

  it('SIGHUP: RELOADING=1 then READY=1; applies the meters, warns about what needs a restart, keeps the old configuration when the new one is bad', async () => {
    const file = join(dir, 'reload.yaml');
    const meter = (n: number): string => `  - { serial: SIM00000${n}, line: ip, address: "127.0.0.1:${n}", client: 16 }`;
    const write = (meters: readonly string[], extra: readonly string[] = []): void =>
      writeFileSync(file, [`id: dcu-reload`, `stateDir: ${join(dir, 'reload-state')}`, 'lines: [{ name: ip, tcp: { concurrency: 1 } }]', 'collection: { load-profile: { every: 1d, enabled: false }, clock: { every: 1d, enabled: false } }', 'meters:', ...meters, ...extra, ''].join('\n'));
    write([meter(1)]);
    const from = got.length;
    const mine = (): string[] => got.slice(from).filter((m) => m !== 'BARRIER=1');
    const child = spawn(process.execPath, [DCUD, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: join(dir, 'notify.sock') } });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const explain = (e: unknown): never => {
      throw new Error(`${String(e)}\nreceived: ${mine().join('\n')}\ndcud: ${log.slice(-2000)}`);
    };
    try {
      await until(() => mine().some((m) => m.startsWith('READY=1|STATUS=1 meters')), 'READY=1 with one meter', 30_000).catch(explain);

      // two meters now, and a new API listener (needs a restart)
      write([meter(1), meter(2)], ['api: { listen: "127.0.0.1:0" }']);
      child.kill('SIGHUP');
      await until(() => mine().some((m) => m.startsWith('READY=1|STATUS=2 meters')), 'READY=1 with two meters', 30_000).catch(explain);
      const reloading = mine().findIndex((m) => m.startsWith('RELOADING=1'));
      expect(mine()[reloading]).toMatch(/^RELOADING=1\|MONOTONIC_USEC=\d+\|STATUS=reloading the configuration$/);
      expect(reloading).toBeGreaterThan(mine().findIndex((m) => m.startsWith('READY=1|STATUS=1 meters')));
      expect(reloading).toBeLessThan(mine().findIndex((m) => m.startsWith('READY=1|STATUS=2 meters')));
      await until(() => log.includes('configuration reloaded'), 'the reload log line').catch(explain);
      expect(log).toMatch(/SIGHUP: \\"api\\" changed in .*takes effect after a restart.*keeps running with the old api/);
      expect(log.match(/local API listening/g)).toHaveLength(1); // no HTTPS listener was started by the reload

      // a bad configuration: RELOADING=1, READY=1 again, the problem logged, still two meters and running
      writeFileSync(file, 'id: dcu-reload\nlines: 3\n');
      const before = mine().length;
      child.kill('SIGHUP');
      await until(() => mine().slice(before).some((m) => m.startsWith('READY=1')) && log.includes('configuration not reloaded'), 'READY=1 after the bad reload', 30_000).catch(explain);
      expect(mine().slice(before).map((m) => m.split('|')[0])).toEqual(['RELOADING=1', 'READY=1']);
      expect(mine().at(-1)).toMatch(/^READY=1\|STATUS=2 meters/);
      await until(() => log.includes('configuration not reloaded'), 'the error logged').catch(explain);
      expect(log).toMatch(/"err":"[^"]*lines: 3: must be array[^"]*","msg":"SIGHUP: configuration not reloaded, dcud keeps running with the previous one/);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 120_000);
});
