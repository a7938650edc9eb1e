/**
 * `dcu hes` against mosquitto and dcud (child processes, simulated meters): watch prints
 * data and status as they arrive and, with --ack, acknowledges so an appAck concentrator
 * empties its outbox; read prints accepted / EXE / done (exit 0), a FAIL exits 5, a refused
 * command 2, an unreachable broker 3; send prints every answer as JSON (checked against
 * docs/asyncapi.yaml).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadContract } from '../helpers/asyncapi';
import { DIST, runCli } from '../helpers/cli';
import { startDcudMqtt, type DcudMqtt } from '../helpers/dcud-mqtt';
import { writeFileSync } from 'node:fs';
import { freePort, startMosquitto } from '../helpers/mosquitto';
import { until } from '../helpers/until';

jest.setTimeout(180_000);
const ID = 'dcu-console';
const ENERGY = '3:1.0.1.8.0.255:2';

describe('dcu hes', () => {
  let d: DcudMqtt;
  let base: string[];
  beforeAll(async () => {
    d = await startDcudMqtt({ id: ID, meters: 1, mqtt: 'appAck: true' });
    base = ['hes', '--broker', d.broker.url, '--dcu', ID];
    // dcud is up once it answers a command
    await until(() => d.output().includes('"state":"online"') || d.count('SELECT count(*) AS n FROM meters') > 0, 'dcud started', 60_000);
    for (let i = 0; i < 30; i++) {
      const r = await runCli('dcu', [...base, '--timeout', '3s', 'send', 'status'], 30_000);
      if (r.code === 0) return;
    }
    throw new Error(`dcud does not answer status\n${d.output()}`);
  });
  afterAll(async () => {
    await d.close();
  });

  it('watch --ack prints what arrives and acknowledges it; read prints accepted, EXE, done', async () => {
    const watcher = spawn(process.execPath, [join(DIST, 'cli', 'dcu.js'), ...base, 'watch', '--ack'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    watcher.stdout.on('data', (b: Buffer) => (out += b.toString()));
    watcher.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => watcher.on('close', (code) => resolve(code)));
    try {
      await until(() => err.includes('watching'), 'watch subscribed', 20_000);
      const serial = d.serials[0] ?? '';
      const r = await runCli('dcu', [...base, 'read', serial, '--what', `registers,${ENERGY}`], 60_000);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^accepted: job \S+, 1 meter\(s\)$/m);
      expect(r.stdout).toMatch(new RegExp(`^${serial} EXE .*\\+A \\d+ Wh.*${ENERGY} = \\{`, 'm'));
      expect(r.stdout).toMatch(/^done: job \S+ done — EXE 1, WARN 0, FAIL 0, cancelled 0$/m);
      await until(() => /data\/results {2}results {2}seq 1\.\.\d+ {2}\d+ items/.test(out), 'the results in watch', 30_000);
      expect(out).toMatch(/dcu\/dcu-console\/status {2}status online since /);
      // appAck is on: only the console's acks let the outbox empty
      await until(() => d.count('SELECT count(*) AS n FROM outbox') === 0, 'the outbox emptied by the acks', 30_000);
    } finally {
      watcher.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('send prints every answer as JSON, valid for the contract; 3.1.1 works the same', async () => {
    const contract = await loadContract();
    for (const protocol of ['5', '3.1.1']) {
      const r = await runCli('dcu', [...base, '--protocol', protocol, 'send', 'meters', '{}'], 30_000);
      expect(r.code).toBe(0);
      const answers = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
      expect(answers).toEqual([expect.objectContaining({ command: 'meters', type: 'ok', count: 1 })]);
      for (const a of answers) contract.checkMessage('cmd-meters-answer', a);
    }
    const refused = await runCli('dcu', [...base, 'send', 'read', '{"meters": ["NOPE"], "what": ["registers"]}'], 30_000);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ type: 'error', error: { code: 809, name: 'unknown-meter' } });
    contract.checkMessage('cmd-read-answer', JSON.parse(refused.stdout));
    const bad = await runCli('dcu', [...base, 'send', 'meters', '{oops'], 30_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/does not parse/);
  });

  it('a meter that FAILs exits 5; a refused read 2; an unreachable broker 3', async () => {
    const add = await runCli('dcu', [...base, 'send', 'meter-add', '{"meter": {"serial": "GHOST1", "line": "plc0", "address": "1/99", "client": 17, "auth": "low", "password": "00000000"}}'], 30_000);
    expect(add.code).toBe(0);
    const ghost = await runCli('dcu', [...base, 'read', 'GHOST1', '--what', 'registers'], 120_000);
    expect(ghost.stdout).toMatch(/^GHOST1 FAIL /m);
    expect(ghost.code).toBe(5);
    const unknown = await runCli('dcu', [...base, 'read', 'NOPE']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/read refused: unknown-meter \(809\)/);
    const port = await freePort();
    const down = await runCli('dcu', ['hes', '--broker', `mqtt://127.0.0.1:${port}`, '--dcu', ID, 'read', 'X']);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot connect to the broker mqtt:\/\/127\.0\.0\.1:\d+/);
  });

  it('TLS with a CA and client certificate, credentials from files; a wrong password is exit 3', async () => {
    const broker = await startMosquitto({ tls: true, users: { hes: 'right-pw' } });
    try {
      const tls = broker.tls!;
      writeFileSync(join(broker.dir, 'user'), 'hes\n');
      writeFileSync(join(broker.dir, 'good'), 'right-pw\n');
      writeFileSync(join(broker.dir, 'bad'), 'wrong-pw\n');
      const args = (pw: string): string[] => ['hes', '--broker', broker.tlsUrl!, '--dcu', 'nobody', '--ca', tls.ca, '--cert', tls.cert, '--key', tls.key, '--username-file', join(broker.dir, 'user'), '--password-file', join(broker.dir, pw), '--timeout', '2s', 'send', 'status'];
      const connected = await runCli('dcu', args('good'));
      expect(connected.code).toBe(3);
      expect(connected.stderr).toMatch(/no answer to status within 2 s/); // connected, subscribed, published: nobody answers
      const refused = await runCli('dcu', args('bad'));
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/cannot connect to the broker/);
      expect(refused.stderr + connected.stderr).not.toMatch(/right-pw|wrong-pw/);
    } finally {
      await broker.close();
    }
  });
});
