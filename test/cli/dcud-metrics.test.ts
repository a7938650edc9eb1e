/**
 * /metrics of a running dcud (child process) with simulated meters on two serial lines, one of
 * them flaky (the simulator loses 30 % of the frames each way on it): the flaky line shows
 * frames retried, a collection cycle's meters count as job results of class scheduled, and every
 * metric the README lists is there with the type it says.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_SOCKET_FILE } from '../../daemon/api/http';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { call, type Target } from '../helpers/api';
import { runCli } from '../helpers/cli';
import { startDcud, type DcudChild } from '../helpers/dcud';

const LLS = 'client: 17, auth: low, password: "00000000"';

/** The metrics the README lists under "Metrics": name → Prometheus type. */
function readmeMetrics(): Map<string, string> {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const at = readme.indexOf('**Metrics**');
  expect(at).toBeGreaterThan(0);
  const block = readme.slice(at, readme.indexOf('\n\n', at));
  return new Map([...block.matchAll(/`(dcu_[a-z_]+)`[^`\n]*?\((counter|gauge|histogram)/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

/** A sample's value, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('dcud /metrics with a flaky line', () => {
  let fleet: RunningFleet;
  let dir: string;
  let dcud: DcudChild;
  let api: Target;
  let token: string;

  beforeAll(async () => {
    fleet = await startFleet(parseFleetConfig({ meters: 2, serialLines: 2, baud: 115200, latencyMs: 2, seed: 11, lineFaults: { '1': { lossProbability: 0.3 } } }, 'test'));
    dir = mkdtempSync(join(tmpdir(), 'dcud-metrics-'));
    const state = join(dir, 'state');
    const [clean, flaky] = fleet.endpoints;
    const at = (m: typeof clean): string => `address: "${m!.logicalDevice}/${m!.physicalAddress}"`;
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        'id: dcu-metrics',
        `stateDir: ${state}`,
        'lines:',
        `  - { name: plc0, serial: { path: ${fleet.lines[0]!.device}, baud: 115200 }, timeout: 5s, retries: 3 }`,
        `  - { name: plc1, serial: { path: ${fleet.lines[1]!.device}, baud: 115200 }, timeout: 400ms, retries: 8 }`,
        'meters:',
        `  - { serial: ${clean!.serial}, line: plc0, ${at(clean)}, ${LLS} }`,
        `  - { serial: ${flaky!.serial}, line: plc1, ${at(flaky)}, ${LLS} }`,
        'collection:',
        '  load-profile: { every: 15m, backfill: 6h }',
        '  clock: { every: 1d, enabled: false }',
        '',
      ].join('\n'),
    );
    dcud = await startDcud(file);
    const user = await runCli('dcu', ['users', 'add', 'scraper', '--role', 'viewer', '--state', state]);
    expect(user.code).toBe(0);
    token = user.stdout.trim();
    api = { socket: join(state, API_SOCKET_FILE) };
  }, 60_000);
  afterAll(async () => {
    await dcud.stop();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows frames retried on the flaky line, collection results as class scheduled, and every metric the README lists with its type', async () => {
    let text = '';
    const scrape = async (): Promise<string> => {
      const r = await call(api, 'GET', '/metrics', { token });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      return (text = r.text);
    };
    let retried = 0;
    const deadline = Date.now() + 90_000;
    while ((retried = sample(await scrape(), 'dcu_line_frames_retried_total{line="plc1"}') ?? 0) === 0) {
      if (Date.now() > deadline) throw new Error(`no frame retried on plc1\n${text}\n${dcud.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(retried).toBeGreaterThan(0);
    expect(sample(text, 'dcu_line_frames_retried_total{line="plc0"}')).toBeDefined();
    expect(sample(text, 'dcu_line_bytes_total{line="plc1",direction="received"}')).toBeGreaterThan(0);
    // the clean meter's first collection cycle counts as a job result of class scheduled, with its duration
    while ((sample(await scrape(), 'dcu_job_results_total{class="scheduled",status="EXE"}') ?? 0) === 0) {
      if (Date.now() > deadline) throw new Error(`no scheduled result\n${text}\n${dcud.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(sample(text, 'dcu_job_result_seconds_count{class="scheduled"}')).toBeGreaterThanOrEqual(1);

    const listed = readmeMetrics();
    expect(listed.size).toBeGreaterThanOrEqual(10);
    for (const [name, type] of listed) {
      expect({ name, type: new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(text)?.[1] }).toEqual({ name, type });
      if (type === 'counter') expect(name).toMatch(/_total$/);
    }
    // and nothing the README does not list
    const served = [...text.matchAll(/^# TYPE (dcu_\w+) /gm)].map((m) => m[1]);
    expect(served.filter((n) => !listed.has(n ?? ''))).toEqual([]);
  }, 120_000);
});
