/**
 * Issue 19 item 2, through real processes: dcud is killed (-9) while it sends, its store is
 * lost (truncated to 0 bytes: SQLite rebuilds a partial store from the WAL) or garbled, and it
 * starts again. The HES must never see an id again for other data, the first message after the
 * rebuild is the `store-corrupt` alarm, and a malformed file is moved aside, never written on.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDcud, type DcudChild } from '../../helpers/dcud';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto';
import { until } from '../../helpers/until';

jest.setTimeout(180_000);

interface Seen {
  readonly topic: string;
  readonly id: string;
  readonly incarnation: string;
  readonly items: string;
  readonly body: { items: { seq: number; code?: string }[] };
}

describe('dcud after its store was lost or garbled', () => {
  let broker: Mosquitto;
  let hes: MqttClient;
  let dir: string;
  let dcud: DcudChild | undefined;
  const seen: Seen[] = [];
  beforeAll(async () => {
    broker = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'dcud-rebuilt-'));
    hes = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'hes-rebuilt' });
    hes.on('message', (topic, payload) => {
      if (!topic.includes('/data/')) return;
      const body = JSON.parse(payload.toString()) as { id: string; incarnation: string; items: { seq: number }[] };
      seen.push({ topic, id: body.id, incarnation: body.incarnation, items: JSON.stringify(body.items), body });
    });
    await hes.subscribeAsync('dcu/dcu-rebuilt/#', { qos: 1 });
  });
  afterAll(async () => {
    if (dcud !== undefined) await dcud.stop();
    await hes.endAsync(true);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (): string => {
    const f = join(dir, 'dcu.yaml');
    writeFileSync(f, [`id: dcu-rebuilt`, `stateDir: ${join(dir, 'state')}`, `mqtt: { url: "${broker.url}", healthEvery: 1s, reconnectMin: 200ms, reconnectMax: 1s }`, 'lines: []', 'meters: []', ''].join('\n'));
    return f;
  };
  const killHard = async (d: DcudChild): Promise<void> => {
    const gone = new Promise((resolve) => d.child.on('close', resolve));
    d.child.kill('SIGKILL');
    await gone;
  };
  /** No id names two different sets of items. */
  const reused = (): string[] => {
    const byId = new Map<string, string>();
    const bad: string[] = [];
    for (const s of seen) {
      const before = byId.get(s.id);
      if (before !== undefined && before !== s.items) bad.push(s.id);
      byId.set(s.id, s.items);
    }
    return bad;
  };

  it('a store truncated to 0 bytes and rebuilt from the WAL gets a new incarnation: no id is reused, store-corrupt comes first', async () => {
    const f = file();
    dcud = await startDcud(f);
    await until(() => seen.length >= 8, 'health messages before the kill', 60_000);
    await killHard(dcud);
    dcud = undefined;
    const before = seen.length;
    const incarnation = seen[0]?.incarnation;
    expect(incarnation).toMatch(/^[0-9a-f]{8}$/);
    expect(seen[0]?.id).toBe(`dcu-rebuilt/health/${incarnation}/${seen[0]?.body.items[0]?.seq}`);
    truncateSync(join(dir, 'state', 'dcu.sqlite'), 0);

    dcud = await startDcud(f);
    await until(() => seen.length >= before + 5, 'messages after the rebuild', 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${dcud?.output().slice(-3000) ?? ''}`);
    });
    const after = seen.slice(before);
    expect(after[0]?.topic).toBe('dcu/dcu-rebuilt/data/alarms');
    expect(after[0]?.body.items[0]?.code).toBe('store-corrupt');
    expect(after.every((s) => s.incarnation !== incarnation)).toBe(true);
    expect(reused()).toEqual([]);
    expect(dcud.output()).toMatch(/store-corrupt/);
  });

  it('a garbled store is found by quick_check, moved aside and a fresh one started; the alarm comes first', async () => {
    const f = file();
    if (dcud === undefined) dcud = await startDcud(f);
    await until(() => seen.length >= 3, 'messages', 60_000);
    expect(await dcud.stop()).toBe(0); // checkpointed: everything is in the main file
    dcud = undefined;
    const before = seen.length;
    const incarnation = seen[before - 1]?.incarnation;
    // garble the pages after the first (the header stays, the b-trees do not)
    const store = join(dir, 'state', 'dcu.sqlite');
    const pages = Math.floor(statSync(store).size / 4096);
    const fd = openSync(store, 'r+');
    for (let page = 1; page < pages; page++) writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, page * 4096);
    closeSync(fd);

    dcud = await startDcud(f);
    await until(() => seen.length >= before + 3, 'messages after the fresh store', 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${dcud?.output().slice(-3000) ?? ''}`);
    });
    const after = seen.slice(before);
    expect(after[0]?.body.items[0]?.code).toBe('store-corrupt');
    expect(after.every((s) => s.incarnation !== incarnation)).toBe(true);
    expect(readdirSync(join(dir, 'state')).some((n) => n.startsWith('dcu.sqlite.malformed-'))).toBe(true);
    expect(reused()).toEqual([]);
  });

  it('a store truncated under a running dcud is noticed: dcud stops writing on it and exits 7', async () => {
    const f = file();
    if (dcud === undefined) dcud = await startDcud(f);
    const d = dcud;
    const exited = new Promise<number | null>((resolve) => d.child.on('close', (code) => resolve(code)));
    truncateSync(join(dir, 'state', 'dcu.sqlite'), 0);
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 60_000))]);
    dcud = undefined;
    expect({ code, log: code === 7 ? '' : d.output().slice(-2000) }).toEqual({ code: 7, log: '' });
    expect(d.output()).toMatch(/malformed|truncated/);
  });
});
