/**
 * Acceptance "Commands" through a real broker: dcud as a child process with simulated meters
 * and mosquitto. An on-demand read over MQTT 5 (response topic + correlation data) and over
 * MQTT 3.1.1 (`replyTo` / `correlationId` in the payload) answers accepted, the meter's EXE
 * result with its values, done; a table of malformed commands each gets its typed error and
 * leaves the store's content unchanged. Every answer and every message on the dcu's topics
 * is validated against docs/asyncapi.yaml.
 *
 * "Unchanged" is the logical content — every table's rows, ordered, and user_version — read
 * through a second read-only connection while dcud runs. Not the file bytes: dcud keeps the
 * store open in WAL mode, so the main file and the -wal move with checkpoints whatever the
 * content, and the acceptance wants the live daemon to answer (stopping it between commands
 * would test something else). The handler-level test (commands.test.ts) compares the
 * serialized bytes of the database, where the connection is ours.
 */
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { COMMAND_NAMES } from '../../../daemon/hes/commands';
import { ErrorCode } from '../../../protocol/common/errors';
import { loadContract, type Contract } from '../../helpers/asyncapi';
import { startDcudMqtt, type DcudMqtt } from '../../helpers/dcud-mqtt';
import { until } from '../../helpers/until';

jest.setTimeout(180_000);

type Answer = Record<string, unknown> & { type: string; error?: { code: number; name: string; message: string } };
const ID = 'dcu-cmd';
const ENERGY = '3:1.0.1.8.0.255:2';

describe('HES commands through mosquitto to dcud', () => {
  let d: DcudMqtt;
  let hes5: MqttClient;
  let hes3: MqttClient;
  let contract: Contract;
  const answers = new Map<string, { doc: Answer; correlation: string | undefined }[]>();
  const seen: { topic: string; body: Record<string, unknown> }[] = [];
  const violations: string[] = [];
  let n = 0;

  const collect = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
    const doc = JSON.parse(payload.toString()) as Answer;
    const key = topic.split('/').pop() ?? '';
    (answers.get(key) ?? answers.set(key, []).get(key))?.push({ doc, correlation: packet.properties?.correlationData?.toString() });
  };
  const terminal = (a: Answer, name: string): boolean => a.type === 'done' || a.type === 'ok' || a.type === 'error' || (name === 'plan' && a.type === 'accepted');

  /** Sends over MQTT 5 with a response topic and correlation data; the answers until the last. */
  async function ask5(name: string, payload: string | Buffer | object, ms = 60_000): Promise<Answer[]> {
    const key = `r${++n}`;
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    await hes5.publishAsync(`dcu/${ID}/cmd/${name}`, body, { qos: 1, properties: { responseTopic: `hes/replies/${key}`, correlationData: Buffer.from(key) } });
    await until(() => (answers.get(key) ?? []).some((a) => terminal(a.doc, name)), `the answers to ${name} (${key})`, ms);
    const got = answers.get(key) ?? [];
    for (const a of got) {
      expect(a.correlation).toBe(key);
      contract.checkMessage((COMMAND_NAMES as string[]).includes(name) ? `cmd-${name}-answer` : 'cmd-error', a.doc);
    }
    return got.map((a) => a.doc);
  }

  /** Sends over MQTT 3.1.1: replyTo and correlationId in the payload. */
  async function ask3(name: string, payload: object): Promise<Answer[]> {
    const key = `v${++n}`;
    await hes3.publishAsync(`dcu/${ID}/cmd/${name}`, JSON.stringify({ ...payload, replyTo: `hes/v3/${key}`, correlationId: key }), { qos: 1 });
    await until(() => (answers.get(key) ?? []).some((a) => terminal(a.doc, name)), `the answers to ${name} over 3.1.1`, 60_000);
    const got = (answers.get(key) ?? []).map((a) => a.doc);
    for (const a of got) {
      expect(a.correlationId).toBe(key);
      contract.checkMessage(`cmd-${name}-answer`, a);
    }
    return got;
  }

  beforeAll(async () => {
    contract = await loadContract();
    d = await startDcudMqtt({ id: ID, meters: 2 });
    hes5 = await mqtt.connectAsync(d.broker.url, { protocolVersion: 5, clientId: 'hes-5' });
    hes3 = await mqtt.connectAsync(d.broker.url, { protocolVersion: 4, clientId: 'hes-3' });
    for (const c of [hes5, hes3]) c.on('message', (topic, payload, packet) => (topic.startsWith('hes/') ? collect(topic, payload, packet) : undefined));
    hes5.on('message', (topic, payload) => {
      if (!topic.startsWith(`dcu/${ID}/`)) return;
      const body = JSON.parse(payload.toString()) as Record<string, unknown>;
      try {
        contract.check(topic, body);
      } catch (e) {
        violations.push(String(e)); // thrown inside mqtt.js's handler it would stall the client
      }
      seen.push({ topic, body });
    });
    await hes5.subscribeAsync([`dcu/${ID}/status`, `dcu/${ID}/data/#`, 'hes/replies/#'], { qos: 1 });
    await hes3.subscribeAsync('hes/v3/#', { qos: 1 });
    await until(() => seen.some((s) => s.topic.endsWith('/status') && s.body.state === 'online'), 'dcud online', 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${d.output()}`);
    });
  });
  afterEach(() => expect(violations).toEqual([]));
  afterAll(async () => {
    await hes5.endAsync(true);
    await hes3.endAsync(true);
    await d.close();
  });

  it('read over MQTT 5: accepted, the EXE result with registers and the attribute, done; the result also on data/results', async () => {
    const serial = d.serials[0] ?? '';
    const got = await ask5('read', { meters: [serial], what: ['registers', ENERGY] });
    expect(got.map((a) => a.type)).toEqual(['accepted', 'result', 'done']);
    expect(got[0]).toMatchObject({ command: 'read', meters: 1, created: true });
    const result = got[1]?.result as { meter: string; status: string; registers: { obis: string; value: string }[]; attributes: { ref: string; value: unknown }[] };
    expect(result).toMatchObject({ meter: serial, status: 'EXE' });
    expect(result.registers.length).toBeGreaterThan(0);
    expect(result.registers.every((r) => /^-?\d+(\.\d+)?$/.test(r.value))).toBe(true);
    expect(result.attributes).toEqual([expect.objectContaining({ ref: ENERGY, value: expect.anything() })]);
    expect(got[2]).toMatchObject({ type: 'done', state: 'done', exe: 1, fail: 0 });
    const job = got[0]?.job;
    await until(() => seen.some((s) => s.topic.endsWith('/data/results') && (s.body.items as { job?: string; meter?: string }[]).some((i) => i.meter === serial)), 'the result on data/results', 30_000);
    expect(typeof job).toBe('string');
  });

  it('read over MQTT 3.1.1 with replyTo and correlationId in the payload', async () => {
    const serial = d.serials[1] ?? '';
    const got = await ask3('read', { meters: [serial], what: [ENERGY] });
    expect(got.map((a) => a.type)).toEqual(['accepted', 'result', 'done']);
    expect(got[1]?.result).toMatchObject({ meter: serial, status: 'EXE', attributes: [{ ref: ENERGY }] });
    expect(got[2]).toMatchObject({ exe: 1 });
  });

  const big = { meters: ['X'], what: ['registers'], pad: 'x'.repeat(70_000) };
  const BAD: [string, string, () => string | Buffer | object, number][] = [
    ['not JSON', 'read', () => '{"meters": [', ErrorCode.InvalidJson],
    ['not UTF-8', 'read', () => Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), ErrorCode.InvalidJson],
    ['empty payload', 'status', () => '', ErrorCode.InvalidJson],
    ['an array', 'read', () => '[1,2]', ErrorCode.InvalidJson],
    ['a JSON string', 'meters', () => '"all"', ErrorCode.InvalidJson],
    ['unknown command', 'reboot', () => ({}), ErrorCode.UnknownCommand],
    ['unknown meter', 'read', () => ({ meters: ['ZZ9'], what: ['registers'] }), ErrorCode.UnknownMeter],
    ['unknown what', 'read', () => ({ meters: [d.serials[0]], what: ['everything'] }), ErrorCode.Usage],
    ['bad OBIS', 'read', () => ({ meters: [d.serials[0]], what: ['3:1.0.1.8.0:2'] }), ErrorCode.Usage],
    ['missing what', 'read', () => ({ meters: [d.serials[0]] }), ErrorCode.Usage],
    ['two selections', 'read', () => ({ meters: [d.serials[0]], all: true, what: ['registers'] }), ErrorCode.Usage],
    ['unknown key', 'plan', () => ({ all: true, what: ['daily'], colour: 'red' }), ErrorCode.Usage],
    ['bad window', 'plan', () => ({ all: true, what: ['daily'], window: ['night'] }), ErrorCode.Usage],
    ['expired', 'read', () => ({ meters: [d.serials[0]], what: ['registers'], expiresAt: '2001-01-01T00:00:00Z' }), ErrorCode.CommandExpired],
    ['too large', 'read', () => big, ErrorCode.PayloadTooLarge],
    ['cancel unknown job', 'cancel', () => ({ job: 'nope' }), ErrorCode.Usage],
    ['add existing', 'meter-add', () => ({ meter: { serial: d.serials[0], line: 'plc0', address: '1/30' } }), ErrorCode.Conflict],
    ['add on unknown line', 'meter-add', () => ({ meter: { serial: 'N2', line: 'plc9', address: '1/30' } }), ErrorCode.Usage],
    ['add without a password', 'meter-add', () => ({ meter: { serial: 'N2', line: 'plc0', address: '1/40', auth: 'low' } }), ErrorCode.Usage],
    ['update unknown meter', 'meter-update', () => ({ serial: 'N3', changes: { address: '1/41' } }), ErrorCode.UnknownMeter],
    ['update to a bad address', 'meter-update', () => ({ serial: d.serials[0], changes: { address: 'ten' } }), ErrorCode.Usage],
    ['remove unknown meter', 'meter-remove', () => ({ serial: 'N4' }), ErrorCode.UnknownMeter],
    ['bad serial form', 'meter-remove', () => ({ serial: 'a b' }), ErrorCode.Usage],
    ['clock-sync without selection', 'clock-sync', () => ({}), ErrorCode.Usage],
    ['status with an extra key', 'status', () => ({ verbose: true }), ErrorCode.Usage],
    // remote commands never name files on the box: /dev/zero grew dcud to gigabytes at the first read
    ...['/dev/zero', '/etc/shadow', '../../x'].map((file): [string, string, () => object, number] => [`add with keys from ${file}`, 'meter-add', () => ({ meter: { serial: 'N5', line: 'plc0', address: '1/50', client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { file } } }), ErrorCode.Usage]),
    ['update keys to a device', 'meter-update', () => ({ serial: d.serials[0], changes: { keys: { file: '/dev/zero' } } }), ErrorCode.Usage],
    ['add with a named key file that does not exist', 'meter-add', () => ({ meter: { serial: 'N5', line: 'plc0', address: '1/50', client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { name: 'nowhere' } } }), ErrorCode.Usage],
  ];

  it(`${BAD.length} malformed commands: each its typed error, the store content unchanged`, async () => {
    // let the reads' bookkeeping and their data/results drain settle first
    await until(() => d.count('SELECT count(*) AS n FROM outbox') === 0, 'the outbox drained', 60_000);
    const start = d.dump();
    for (const [what, name, payload, code] of BAD) {
      const before = d.dump();
      const got = await ask5(name, payload());
      expect({ what, types: got.map((a) => a.type) }).toEqual({ what, types: ['error'] });
      const error = got[0]?.error;
      expect({ what, code: error?.code }).toEqual({ what, code });
      expect(error?.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(error?.message.length).toBeGreaterThan(10);
      expect({ what, same: d.dump() === before }).toEqual({ what, same: true });
    }
    expect(d.dump()).toBe(start);
    // and the daemon still answers at once
    expect((await ask5('status', {})).map((a) => a.type)).toEqual(['ok']);
  });
});

describe('HES commands to a dcud that speaks MQTT 3.1.1', () => {
  let d: DcudMqtt;
  let hes: MqttClient;
  afterAll(async () => {
    await hes.endAsync(true);
    await d.close();
  });

  it('answers a read on the replyTo of the payload, correlationId echoed, valid for the contract', async () => {
    const contract = await loadContract();
    d = await startDcudMqtt({ id: 'dcu-cmd3', meters: 1, mqtt: 'protocol: "3.1.1"' });
    hes = await mqtt.connectAsync(d.broker.url, { protocolVersion: 4, clientId: 'hes-311' });
    const got: Answer[] = [];
    let online = false;
    hes.on('message', (topic, payload) => {
      const doc = JSON.parse(payload.toString()) as Answer;
      if (topic.endsWith('/status')) online ||= doc.state === 'online';
      else got.push(doc);
    });
    await hes.subscribeAsync(['dcu/dcu-cmd3/status', 'hes/311/#'], { qos: 1 });
    await until(() => online, 'dcud online over 3.1.1', 60_000);
    const serial = d.serials[0] ?? '';
    await hes.publishAsync('dcu/dcu-cmd3/cmd/read', JSON.stringify({ meters: [serial], what: [ENERGY], replyTo: 'hes/311/a', correlationId: 'k-1' }), { qos: 1 });
    await until(() => got.some((a) => a.type === 'done'), 'the answers over 3.1.1', 60_000);
    expect(got.map((a) => a.type)).toEqual(['accepted', 'result', 'done']);
    expect(got.every((a) => a.correlationId === 'k-1')).toBe(true);
    expect(got[1]?.result).toMatchObject({ meter: serial, status: 'EXE', attributes: [{ ref: ENERGY }] });
    for (const a of got) contract.checkMessage('cmd-read-answer', a);
  });
});
