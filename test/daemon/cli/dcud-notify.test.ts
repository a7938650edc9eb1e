/**
 * dcud under systemd's notify protocol, without systemd: the test listens on a Unix datagram
 * socket (python3, as systemd would) named by NOTIFY_SOCKET, with WATCHDOG_USEC=1 s. dcud says
 * READY=1 once serving, WATCHDOG=1 while its loops progress, withholds the pings when the
 * scheduler loop is stalled on purpose (DCUD_TEST_HOOKS=1 + SIGUSR2), and says STOPPING=1 on
 * SIGTERM before it exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST } from '../../helpers/cli';
import { until } from '../../helpers/until';

const DCUD = join(DIST, 'daemon', 'cli', 'dcud.js');

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
});
