/**
 * Input limits through a real broker to dcud (child process): a command nested 10,000 levels
 * deep (20 KB) answered `900 internal – Maximum call stack size exceeded`; now it is one
 * typed usage error naming the depth limit. A reply topic that is no topic name, or lies
 * under the concentrator's own cmd/ (where its answer would be taken for a command), is
 * refused before anything runs, and the refusal goes to resp/<name>.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { ErrorCode } from '../../../protocol/common/errors';
import { startDcudMqtt, type DcudMqtt } from '../../helpers/dcud-mqtt';
import { until } from '../../helpers/until';

jest.setTimeout(180_000);

const ID = 'dcu-lim';
type Answer = { command?: string; type?: string; correlationId?: string; error?: { code: number; message: string } };

describe('HES command input limits through mosquitto to dcud', () => {
  let d: DcudMqtt;
  let hes5: MqttClient;
  let hes3: MqttClient;
  const got: { topic: string; doc: Answer; correlation: string | undefined }[] = [];
  const on = (topic: string, pred: (a: Answer) => boolean = () => true): { topic: string; doc: Answer; correlation: string | undefined }[] => got.filter((g) => g.topic === topic && pred(g.doc));

  beforeAll(async () => {
    d = await startDcudMqtt({ id: ID, meters: 1 });
    hes5 = await mqtt.connectAsync(d.broker.url, { protocolVersion: 5, clientId: 'hes-5' });
    hes3 = await mqtt.connectAsync(d.broker.url, { protocolVersion: 4, clientId: 'hes-3' });
    let online = false;
    hes5.on('message', (topic, payload, packet) => {
      const doc = JSON.parse(payload.toString()) as Answer & { state?: string };
      if (topic.endsWith('/status')) online ||= doc.state === 'online';
      else got.push({ topic, doc, correlation: packet.properties?.correlationData?.toString() });
    });
    await hes5.subscribeAsync([`dcu/${ID}/status`, `dcu/${ID}/resp/#`, `dcu/${ID}/cmd/#`, 'hes/#'], { qos: 1 });
    await until(() => online, 'dcud online', 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${d.output()}`);
    });
  });
  afterAll(async () => {
    await hes5.endAsync(true);
    await hes3.endAsync(true);
    await d.close();
  });

  it('answers a command nested 10,000 levels deep with a usage error that states the limit', async () => {
    const deep = `{"meter":{"serial":"DEEP1","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    await hes5.publishAsync(`dcu/${ID}/cmd/meter-add`, deep, { qos: 1, properties: { responseTopic: 'hes/replies/deep', correlationData: Buffer.from('deep') } });
    await until(() => on('hes/replies/deep').length > 0, 'the answer to the deep command', 60_000);
    const a = on('hes/replies/deep')[0];
    expect(a?.correlation).toBe('deep');
    expect(a?.doc).toMatchObject({ command: 'meter-add', type: 'error', error: { code: ErrorCode.Usage } });
    expect(a?.doc.error?.message).toMatch(/nested deeper than 32 levels/);
    expect(d.count("SELECT count(*) AS n FROM meters WHERE serial = 'DEEP1'")).toBe(0);
  });

  it('refuses reply topics under its own cmd/ or with wildcards (MQTT 5 and 3.1.1), answering on resp/<name>, executing nothing', async () => {
    const serial = d.serials[0] ?? '';
    const meters = (): number => d.count('SELECT count(*) AS n FROM meters');
    const before = meters();
    expect(before).toBe(1);
    // MQTT 5: an answer to cmd/meter-remove would be read back as a meter-remove command.
    await hes5.publishAsync(`dcu/${ID}/cmd/meters`, '{}', { qos: 1, properties: { responseTopic: `dcu/${ID}/cmd/meter-remove`, correlationData: Buffer.from('c5') } });
    await until(() => on(`dcu/${ID}/resp/meters`).length > 0, 'the refusal on resp/meters', 60_000);
    expect(on(`dcu/${ID}/resp/meters`)[0]).toMatchObject({ correlation: 'c5', doc: { command: 'meters', type: 'error', error: { code: ErrorCode.Usage } } });
    expect(on(`dcu/${ID}/resp/meters`)[0]?.doc.error?.message).toMatch(/own dcu\/dcu-lim\/cmd\//);
    // MQTT 3.1.1: replyTo in the payload.
    for (const [i, replyTo] of [`dcu/${ID}/cmd/meter-remove`, 'hes/+/r', 'hes/#'].entries()) {
      await hes3.publishAsync(`dcu/${ID}/cmd/read`, JSON.stringify({ meters: [serial], what: ['registers'], replyTo, correlationId: `c3-${i}` }), { qos: 1 });
      await until(() => on(`dcu/${ID}/resp/read`, (a) => a.correlationId === `c3-${i}`).length > 0, `the refusal of replyTo ${replyTo} on resp/read`, 60_000);
      expect(on(`dcu/${ID}/resp/read`, (a) => a.correlationId === `c3-${i}`)[0]?.doc).toMatchObject({ type: 'error', error: { code: ErrorCode.Usage } });
    }
    await new Promise((r) => setTimeout(r, 500)); // anything sent to a refused topic would have arrived by now
    // On cmd/ only our own commands passed (they carry no answer type): no answer went there.
    expect(got.filter((g) => g.topic.startsWith(`dcu/${ID}/cmd/`) && g.doc.type !== undefined).map((g) => g.topic)).toEqual([]);
    expect(got.filter((g) => g.topic.startsWith(`dcu/${ID}/cmd/`)).length).toBe(5);
    expect(d.count('SELECT count(*) AS n FROM jobs')).toBe(0);
    expect(meters()).toBe(before);
  });
});
