/**
 * Secrets at rest through real processes: a dcud started outside systemd (the usual umask
 * 022) makes its state directory 0700 and every file 0600, keeps no meter password or key in
 * clear in any file, the API and the CLI never show them, a store an older dcu wrote in clear
 * is sealed at start, and `dcu keys rotate-kek` (dcud stopped) re-seals the store so that the
 * restarted dcud still logs on to its meter with the LLS password.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { openStore } from '../../storage/db';
import { call } from '../helpers/api';
import { runCli } from '../helpers/cli';
import { startDcud, tcpMeterEntries, writeTcpDcudConfig, type DcudChild } from '../helpers/dcud';
import { freePortBlock } from '../helpers/ports';

const PASSWORD = 'Lls-S3cret-pw';
const SECRET = 'Hls-S3cret-xyz';
const KEYS = { blockKey: 'A0A1A2A3A4A5A6A7A8A9AAABACADAEAF', authKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' };
const SECRETS = [PASSWORD, SECRET, KEYS.blockKey, KEYS.authKey, KEYS.authKey.toLowerCase()];

const mode = (p: string): number => statSync(p).mode & 0o7777;

/** Every secret found in any file of the directory, as `file: secret`. */
function secretsIn(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    if (!statSync(path).isFile()) return [];
    const bytes = readFileSync(path);
    return SECRETS.filter((s) => bytes.includes(s)).map((s) => `${f}: ${s}`);
  });
}

describe('dcud keeps meter secrets sealed and its state directory private', () => {
  let fleet: RunningFleet;
  let dir: string;
  let state: string;
  let config: string;
  let port: number;
  let dcud: DcudChild | undefined;
  let umask: number;

  beforeAll(async () => {
    umask = process.umask(0o022); // a login shell's umask: what made the store 0644 before
    fleet = await startFleet(parseFleetConfig({ meters: 1, tcpBasePort: await freePortBlock(1), latencyMs: 0, jitterMs: 0 }, 'test'));
    dir = mkdtempSync(join(tmpdir(), 'dcud-secrets-'));
    state = join(dir, 'new', 'state');
    port = await freePortBlock(1);
    config = writeTcpDcudConfig(join(dir, 'dcu.yaml'), {
      id: 'dcu-secrets',
      stateDir: state,
      api: `127.0.0.1:${port}`,
      concurrency: 1,
      line: 'timeout: 2s',
      meters: [
        ...tcpMeterEntries(fleet.endpoints),
        `  - { serial: L2, line: ip, address: "127.0.0.1:9", client: 17, auth: low, password: "${PASSWORD}" }`,
        `  - { serial: S3, line: ip, address: "127.0.0.1:10", client: 1, auth: high-sha256, secret: "${SECRET}", systemTitle: "4443553030303031" }`,
        `  - { serial: G4, line: ip, address: "127.0.0.1:11", client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { blockKey: ${KEYS.blockKey}, authKey: ${KEYS.authKey} } }`,
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await dcud?.stop();
    await fleet.stop();
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes the state directory 0700 and every file 0600; no secret is in clear in any of them', async () => {
    dcud = await startDcud(config);
    expect(dcud.output()).toContain('protects a copied store, not a copied state directory or a stolen box');
    expect(mode(state)).toBe(0o700);
    for (const f of ['dcu.sqlite', 'dcu.sqlite-wal', 'dcu.sqlite-shm', 'dcud.lock', 'dcu-kek', 'api-key.pem']) expect([f, mode(join(state, f)).toString(8)]).toEqual([f, '600']);
    expect(secretsIn(state)).toEqual([]);
  }, 60_000);

  it('the API and the CLI on the box never show a password, secret or key', async () => {
    const token = (await runCli('dcu', ['users', 'add', 'ops', '--role', 'operator', '--state', state])).stdout.trim();
    const added = await call({ port }, 'POST', '/api/v1/meters', { token, body: { meter: { serial: 'N5', line: 'ip', address: '127.0.0.1:12', client: 17, auth: 'low', password: PASSWORD } } });
    expect(added.status).toBe(201);
    const answers = [await call({ port }, 'GET', '/api/v1/meters', { token }), ...(await Promise.all(['L2', 'S3', 'G4', 'N5'].map((s) => call({ port }, 'GET', `/api/v1/meters/${s}`, { token }))))];
    for (const a of answers) expect(a.status).toBe(200);
    const shown = [...answers.map((a) => a.text), added.text, (await runCli('dcu', ['meters', 'show', 'G4', '--json', '--state', state])).stdout, (await runCli('dcu', ['meters', 'list', '--json', '--state', state])).stdout];
    for (const text of shown) for (const s of SECRETS) expect(text).not.toContain(s);
    expect(JSON.parse(answers[3]!.text)).toMatchObject({ serial: 'G4', access: { auth: 'high-gmac', keys: '(inline, not shown)' } });
    expect(secretsIn(state)).toEqual([]);
  }, 60_000);

  it('dcu keys rotate-kek refuses while dcud runs; stopped, it re-seals, and the restarted dcud still logs on with the password', async () => {
    const running = await runCli('dcu', ['keys', 'rotate-kek', '--state', state]);
    expect(running.code).not.toBe(0);
    expect(running.stderr).toContain('another dcud already runs');
    expect(await dcud!.stop()).toBe(0);
    dcud = undefined;
    const before = readFileSync(join(state, 'dcu-kek'), 'utf8');
    const r = await runCli('dcu', ['keys', 'rotate-kek', '--state', state, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { meters: number; from: string; to: string };
    expect(doc.meters).toBe(5);
    expect(doc.from).not.toBe(doc.to);
    expect(readFileSync(join(state, 'dcu-kek'), 'utf8')).not.toBe(before);
    expect(mode(join(state, 'dcu-kek'))).toBe(0o600);
    expect(secretsIn(state)).toEqual([]);
    dcud = await startDcud(config);
    const serial = fleet.endpoints[0]!.serial;
    const read = await runCli('dcu', ['read', serial, '--what', 'registers', '--state', state], 90_000);
    expect(`${read.code} ${read.stderr}`).toBe('0 ');
    expect(read.stdout).toContain(serial);
  }, 180_000);

  it('a store an older dcu left 0644 with passwords in clear is narrowed to 0600 and sealed at start', async () => {
    await dcud?.stop();
    dcud = undefined;
    const old = join(dir, 'old');
    const db = openStore(join(old, 'dcu.sqlite'));
    db.prepare("INSERT INTO meters (serial, line, address, access, source, created_at, updated_at) VALUES ('OLD', 'ip', '127.0.0.1:13', ?, 'hes', 1, 1)").run(JSON.stringify({ client: 17, auth: 'low', password: PASSWORD, gbt: true, deviationSign: 'blue-book' }));
    db.close();
    chmodSync(join(old, 'dcu.sqlite'), 0o644);
    expect(secretsIn(old)).toEqual(['dcu.sqlite: Lls-S3cret-pw']);
    const oldConfig = join(dir, 'old.yaml');
    writeFileSync(oldConfig, readFileSync(config, 'utf8').replace(`stateDir: ${state}`, `stateDir: ${old}`).replace(`api: { listen: "127.0.0.1:${port}" }`, ''));
    dcud = await startDcud(oldConfig);
    expect(dcud.output()).toContain('secrets stored in clear by an older dcu are sealed now');
    expect(mode(join(old, 'dcu.sqlite'))).toBe(0o600);
    expect(await dcud.stop()).toBe(0);
    dcud = undefined;
    expect(secretsIn(old)).toEqual([]);
  }, 60_000);
});
