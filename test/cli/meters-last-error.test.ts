/**
 * A new user's trial: a `dcu read` that FAILs leaves its reason in `dcu meters list` (the
 * "last error" column), with dcud a child process. A TCP meter nobody listens for failed at
 * the line's open and the registry heard nothing; a meter that associates and then fails a
 * request (a hostile one) kept no error either.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { startDcud, writeTcpDcudConfig, type DcudChild } from '../helpers/dcud';
import { listenHostileTcpMeter } from '../helpers/hostile-tcp-meter';
import { freePortBlock } from '../helpers/ports';
import type { TcpListener } from '../../protocol/transport/tcp';

let dir: string;
let state: string;
let dcud: DcudChild;
let hostile: TcpListener;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcud-last-error-'));
  state = join(dir, 'state');
  const closed = await freePortBlock(1);
  hostile = await listenHostileTcpMeter({ framing: 'wrapper', behaviour: 'stale-answers', tickMs: 20 });
  const file = writeTcpDcudConfig(join(dir, 'dcu.yaml'), {
    id: 'dcu-last-error',
    stateDir: state,
    concurrency: 2,
    line: 'timeout: 1s, retries: 0',
    meters: [
      `  - { serial: DEAD00001, line: ip, address: "127.0.0.1:${closed}" }`,
      `  - { serial: STALE0001, line: ip, address: "127.0.0.1:${hostile.port}" }`,
    ],
  });
  dcud = await startDcud(file);
}, 60_000);

afterAll(async () => {
  await dcud.stop();
  await hostile.close();
  rmSync(dir, { recursive: true, force: true });
});

it('keeps the reason of a FAIL as the meter\'s last error', async () => {
  const read = await runCli('dcu', ['read', 'DEAD00001', 'STALE0001', '--what', 'registers', '--state', state, '--json'], 90_000);
  const results = read.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; result?: { meter: string; status: string; reason?: string } })
    .flatMap((a) => (a.type === 'result' && a.result !== undefined ? [a.result] : []));
  expect(results.map((r) => [r.meter, r.status]).sort()).toEqual([
    ['DEAD00001', 'FAIL'],
    ['STALE0001', 'FAIL'],
  ]);
  const list = await runCli('dcu', ['meters', 'list', '--state', state, '--json']);
  expect(list.code).toBe(0);
  const meters = JSON.parse(list.stdout) as { serial: string; state: { lastError: string | null } }[];
  for (const r of results) {
    expect({ meter: r.meter, lastError: meters.find((m) => m.serial === r.meter)?.state.lastError }).toEqual({ meter: r.meter, lastError: r.reason });
  }
  const text = await runCli('dcu', ['meters', 'list', '--state', state]);
  expect(text.stdout).toMatch(/^DEAD00001 .*cannot connect to 127\.0\.0\.1:\d+/m);
}, 120_000);
