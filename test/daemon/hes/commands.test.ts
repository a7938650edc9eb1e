import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../config/schema';
import { validateConfig } from '../../../config/validate';
import { COMMAND_NAMES, HesCommands } from '../../../daemon/hes/commands';
import { Scheduler } from '../../../daemon/jobs/scheduler';
import { LineArbiter } from '../../../daemon/lines/arbiter';
import type { LineRuntime } from '../../../daemon/lines/line';
import type { Registry } from '../../../daemon/registry/registry';
import { FakeClock } from '../../../protocol/common/clock';
import { ErrorCode } from '../../../protocol/common/errors';
import { nullLogger } from '../../../protocol/common/log';
import type { MeterMetadataCache } from '../../../protocol/client/meta-cache';
import type { InvocationCounterStore } from '../../../protocol/security/counters';
import { openStore, type Db } from '../../../storage/db';
import { JobStore } from '../../../storage/jobs';
import { MeterRepository } from '../../../storage/meters';
import { testSecretBox } from '../../helpers/store';
import type { ReadingsStore } from '../../../storage/readings';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('HES commands', () => {
  let dir: string;
  let db: Db;
  let clock: FakeClock;
  let meters: MeterRepository;
  let hes: HesCommands;
  let answers: { doc: Record<string, unknown>; via: object }[];
  const keysDir = mkdtempSync(join(tmpdir(), 'dcu-hes-keys-'));
  writeFileSync(join(keysDir, 'N1.json'), JSON.stringify({ blockKey: '000102030405060708090A0B0C0D0E0F', authKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' }));
  mkdirSync(join(keysDir, 'adir.json'));
  afterAll(() => rmSync(keysDir, { recursive: true, force: true }));
  const config: Config = validateConfig({
    id: 'dcu-test',
    stateDir: '/tmp/x',
    keysDir,
    lines: [{ name: 'plc0', serial: { path: '/dev/null' } }, { name: 'ip', tcp: {} }],
    meters: [
      { serial: 'A1', line: 'plc0', address: '1/17', client: 17, auth: 'low', password: '00000000' },
      { serial: 'A2', line: 'plc0', address: '1/18', client: 17, auth: 'low', password: '00000000' },
    ],
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-hes-'));
    clock = new FakeClock(T0);
    db = openStore(join(dir, 'dcu.sqlite'));
    meters = new MeterRepository(db, testSecretBox());
    meters.applySeed(config.meters, T0);
    const scheduler = new Scheduler({
      config,
      clock,
      logger: nullLogger,
      lines: new Map(['plc0', 'ip'].map((n) => [n, { name: n, arbiter: new LineArbiter(n, 1) } as unknown as LineRuntime])),
      meters,
      jobs: new JobStore(db),
      registry: {} as unknown as Registry,
      readings: {} as unknown as ReadingsStore,
      metaCache: {} as unknown as MeterMetadataCache,
      counters: {} as unknown as InvocationCounterStore,
      timeZone: 'UTC',
      execute: (_d, m, what) => Promise.resolve({ meter: m, status: 'EXE', observations: [], attributes: what.map((w) => ({ ref: w, value: { uint32: 7 } })), requestedAt: clock.now(), finishedAt: clock.now() }),
    });
    scheduler.start();
    hes = new HesCommands({ config, clock, logger: nullLogger, scheduler, meters, status: () => ({ uptimeS: 1 }) });
    answers = [];
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (name: string, payload: unknown): void => hes.handle(name, enc(payload), (doc, via) => answers.push({ doc, via }));
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };

  it('read: accepted with the job id, then each meter result, then done; reply fields echoed', async () => {
    send('read', { meters: ['A1', 'A2'], what: ['3:1.0.1.8.0.255:2'], replyTo: 'hes/replies/7', correlationId: 'c-7' });
    await settle();
    const types = answers.map((a) => a.doc.type);
    expect(types).toEqual(['accepted', 'result', 'result', 'done']);
    expect(answers.every((a) => a.doc.correlationId === 'c-7' && (a.via as { replyTo?: string }).replyTo === 'hes/replies/7')).toBe(true);
    expect(answers[3]?.doc).toMatchObject({ command: 'read', state: 'done', exe: 2, fail: 0 });
  });

  it('registry commands: add, update, list, remove', () => {
    send('meter-add', { meter: { serial: 'N1', line: 'ip', address: '10.0.0.5:4059', client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { name: 'N1' } } });
    expect(answers.pop()?.doc).toMatchObject({ type: 'ok', serial: 'N1', result: 'added' });
    expect(meters.get('N1')?.source).toBe('hes');
    send('meter-update', { serial: 'N1', changes: { address: '10.0.0.6:4059' } });
    expect(answers.pop()?.doc).toMatchObject({ type: 'ok', result: 'updated' });
    expect(meters.get('N1')?.address).toBe('10.0.0.6:4059');
    send('meters', { line: 'ip' });
    expect(answers.pop()?.doc).toMatchObject({ type: 'ok', count: 1, meters: [{ serial: 'N1', stage: 'registered' }] });
    send('meter-remove', { serial: 'N1' });
    expect(answers.pop()?.doc).toMatchObject({ type: 'ok', result: 'removed' });
    expect(meters.get('N1')).toBeUndefined();
    send('status', {});
    expect(answers.pop()?.doc).toMatchObject({ type: 'ok', status: { uptimeS: 1 } });
  });

  it('meter-add refuses a second meter at a TCP endpoint that is taken, whatever its client or line (config check does too)', () => {
    send('meter-add', { meter: { serial: 'N1', line: 'ip', address: '10.0.0.5:4059', client: 16 } });
    expect(answers.pop()?.doc).toMatchObject({ type: 'ok', result: 'added' });
    send('meter-add', { meter: { serial: 'N5', line: 'ip', address: '10.0.0.5:4059', client: 17, auth: 'low', password: '1' } });
    expect(answers.pop()?.doc).toMatchObject({ type: 'error', error: { code: ErrorCode.Usage, message: expect.stringMatching(/meter\.address: TCP endpoint "10\.0\.0\.5:4059" is already meter N1's/) as unknown } });
    expect(meters.get('N5')).toBeUndefined();
  });

  it('never answers with a password, secret or key, and the store holds them sealed only', () => {
    const keys = { blockKey: 'A0A1A2A3A4A5A6A7A8A9AAABACADAEAF', authKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' };
    const secrets = ['Lls-S3cret-pw', 'Hls-S3cret-xyz', keys.blockKey, keys.authKey];
    send('meter-add', { meter: { serial: 'P1', line: 'ip', address: '10.0.0.7:4059', client: 17, auth: 'low', password: 'Lls-S3cret-pw' } });
    send('meter-add', { meter: { serial: 'P2', line: 'ip', address: '10.0.0.8:4059', client: 1, auth: 'high-sha256', secret: 'Hls-S3cret-xyz', systemTitle: '4443553030303031' } });
    send('meter-add', { meter: { serial: 'P3', line: 'ip', address: '10.0.0.9:4059', client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys } });
    send('meter-update', { serial: 'P1', changes: { address: '10.0.0.17:4059' } });
    send('meter-update', { serial: 'P3', changes: { address: 'ten' } });
    send('meters', {});
    expect(answers.map((a) => a.doc.type)).toEqual(['ok', 'ok', 'ok', 'ok', 'error', 'ok']);
    const said = JSON.stringify(answers);
    for (const s of secrets) expect(said).not.toContain(s);
    expect(meters.get('P1')?.access.password).toBe('Lls-S3cret-pw'); // the daemon still has it for its sessions
    const stored = JSON.stringify(db.prepare('SELECT access FROM meters').all());
    for (const s of secrets) expect(stored).not.toContain(s);
  });

  const BAD: [string, string, unknown, number, RegExp][] = [
    ['not JSON', 'read', '{"meters": [', ErrorCode.InvalidJson, /not UTF-8 JSON/],
    ['not UTF-8', 'read', '\uFFFD', ErrorCode.InvalidJson, /JSON/],
    ['an array', 'read', [1, 2], ErrorCode.InvalidJson, /must be a JSON object/],
    ['unknown command', 'reboot', {}, ErrorCode.UnknownCommand, /unknown command "reboot"; known: read, plan/],
    ['unknown meter', 'read', { meters: ['ZZ9'], what: ['registers'] }, ErrorCode.UnknownMeter, /not registered: ZZ9/],
    ['unknown what', 'read', { meters: ['A1'], what: ['everything'] }, ErrorCode.Usage, /"everything" is neither/],
    ['unknown class name', 'read', { meters: ['A1'], what: ['widget:1.0.1.8.0.255:value'] }, ErrorCode.Usage, /unknown interface class 'widget'/],
    ['bad OBIS', 'read', { meters: ['A1'], what: ['3:1.0.1.8.0:2'] }, ErrorCode.Usage, /OBIS/],
    ['missing what', 'read', { meters: ['A1'] }, ErrorCode.Usage, /what: is required/],
    ['unknown key', 'plan', { all: true, what: ['daily'], colour: 'red' }, ErrorCode.Usage, /unknown key "colour"/],
    ['bad window', 'plan', { all: true, what: ['daily'], window: ['night'] }, ErrorCode.Usage, /window\[0\]/],
    ['expired', 'read', { meters: ['A1'], what: ['registers'], expiresAt: '2026-12-01T11:00:00Z' }, ErrorCode.CommandExpired, /expired at 2026-12-01T11:00:00Z/],
    ['too large', 'read', { meters: ['A1'], what: ['registers'], pad: 'x'.repeat(70_000) }, ErrorCode.PayloadTooLarge, /over the 65536-byte limit/],
    ['cancel unknown job', 'cancel', { job: 'nope' }, ErrorCode.Usage, /no job nope/],
    ['add existing', 'meter-add', { meter: { serial: 'A1', line: 'plc0', address: '1/30' } }, ErrorCode.Conflict, /registered already/],
    ['add on unknown line', 'meter-add', { meter: { serial: 'N2', line: 'plc9', address: '1/30' } }, ErrorCode.Usage, /meter\.line: "plc9" is not a line/],
    ['add at a taken address', 'meter-add', { meter: { serial: 'N2', line: 'plc0', address: '1/17', client: 17, auth: 'low', password: '1' } }, ErrorCode.Usage, /already meter A1's/],
    ['add without a password', 'meter-add', { meter: { serial: 'N2', line: 'plc0', address: '1/40', auth: 'low' } }, ErrorCode.Usage, /meter\.password: is required/],
    ...['/dev/zero', '/etc/shadow', '../../x', '/etc/dcu/keys/N1.json'].map((file): [string, string, unknown, number, RegExp] => [
      `add with keys from the file ${file}`,
      'meter-add',
      { meter: { serial: 'N2', line: 'ip', address: '10.0.0.9:4059', client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { file } } },
      ErrorCode.Usage,
      /meter\.keys\.file: remote commands never name files on the box: give the keys inline \(\{blockKey, authKey\}\) or by the name of a key file in the concentrator's keysDir/,
    ]),
    ['update keys to a file', 'meter-update', { serial: 'A1', changes: { keys: { file: '/dev/zero' } } }, ErrorCode.Usage, /changes\.keys\.file: remote commands never name files/],
    ['add with a key name that is a path', 'meter-add', { meter: { serial: 'N2', line: 'ip', address: '10.0.0.9:4059', client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { name: '../../etc/shadow' } } }, ErrorCode.Usage, /meter\.keys/],
    ['add with a named key file that does not exist', 'meter-add', { meter: { serial: 'N2', line: 'ip', address: '10.0.0.9:4059', client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { name: 'N9' } } }, ErrorCode.Usage, /meter\.keys\.name: meter N2: key file .*N9\.json does not exist/],
    ['add with a named key that is a directory', 'meter-add', { meter: { serial: 'N2', line: 'ip', address: '10.0.0.9:4059', client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { name: 'adir' } } }, ErrorCode.Usage, /key file .*adir\.json is a directory, not a key file/],
    ['update unknown meter', 'meter-update', { serial: 'N3', changes: { address: '1/41' } }, ErrorCode.UnknownMeter, /N3 is not registered/],
    ['update to a bad address', 'meter-update', { serial: 'A1', changes: { address: 'ten' } }, ErrorCode.Usage, /meter\.address/],
    ['remove unknown meter', 'meter-remove', { serial: 'N4' }, ErrorCode.UnknownMeter, /N4 is not registered/],
    ['clock-sync without selection', 'clock-sync', {}, ErrorCode.Usage, /exactly one of "meters", "lines"/],
    ['bad serial form', 'meter-remove', { serial: 'a b' }, ErrorCode.Usage, /serial/],
  ];

  it.each(BAD)('%s → a typed error, the store byte-identical', (_what, name, payload, code, message) => {
    const before = db.serialize();
    send(name, payload);
    expect(answers).toHaveLength(1);
    const doc = answers[0]?.doc as { type: string; error: { code: number; name: string; message: string } };
    expect(doc.type).toBe('error');
    expect(doc.error.code).toBe(code);
    expect(doc.error.name).toMatch(/^[a-z-]+$/);
    expect(doc.error.message).toMatch(message);
    expect(Buffer.compare(db.serialize(), before)).toBe(0);
  });

  it('knows the commands the contract lists', () => {
    expect(COMMAND_NAMES).toEqual(['read', 'plan', 'cancel', 'meter-add', 'meter-update', 'meter-remove', 'meters', 'clock-sync', 'status', 'fw-image', 'fw-campaign-create', 'fw-campaign-status', 'fw-campaign-cancel', 'fw-campaign-retry', 'fw-campaign-activate']);
  });
});
