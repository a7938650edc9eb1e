/**
 * Issue 11's first acceptance, literally, through the real processes: dcud (child process)
 * with 200 simulated meters — 160 on 4 serial lines (socat ptys, 40 meters multi-drop each,
 * HLS management client) and 40 over TCP — and a real mosquitto reached through a TCP proxy
 * (the WAN). The HES (this test, connected to the broker directly) sends the image as
 * `fw-image` manifest + chunks; the WAN is cut in the middle of the chunks and restored; the
 * HES asks which chunks are missing and sends those again. Then `fw-campaign-create` for
 * every meter, during which:
 *   - 40 meters (20 %) are unreachable part of the time: 20 silent from the campaign's start
 *     until dcud has recorded a failed attempt on them, 20 going silent for 3 s in the middle
 *     of their own transfer (after block 12);
 *   - 4 meters are silent for the whole test: they must end KO unreachable (retries spent)
 *     and in the field-work-order list;
 *   - 10 meters lose power in the middle of their transfer (after block 8; silent 1.5 s);
 *   - 10 meters hold a partial transfer of ANOTHER image (same size, identifier
 *     SIM-FW-1.9.0) and 5 a partial of this one with gaps (resume and gap filling);
 *   - dcud is killed with SIGKILL 3 times while blocks flow, restarted on the same state dir.
 * The sim side records every block each meter receives with the image identifier the meter
 * held at that moment: none may carry another image's bytes. At the end every reachable
 * meter runs the new version with exactly the image's bytes, as fw-campaign-status and
 * data/results say; the always-silent meters are KO unreachable, and in the field-work-order
 * list.
 *
 * Bytes: counted on the simulator's side of each line (all bytes the meters' side read and
 * wrote on each pty; TCP: on every connection). The image payload the meters received
 * (every block's value, re-sent ones included) must stay ≤ 1.1 × image size × meters updated
 * on the line. Everything else on the line is the protocol overhead, printed: HDLC framing
 * (flags, addresses, HCS/FCS, LLC, RR/SNRM/UA/DISC), association set-up and release
 * (AARQ/AARE with HLS-GMAC, RLRQ/RLRE), GCM ciphering (security header and tag on every APDU),
 * the ACTION/GET headers of each block, the identity, status and bit-string reads, the
 * verification/activation polls and failed attempts (timeouts re-sent), and the 1-minute
 * load-profile collection that keeps running on the same lines (checked complete over the
 * campaign window for every meter that was never made silent).
 */
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_CLASSES } from '../../../config/schema';
import { bytesEqual } from '../../../protocol/common/hex';
import { parseFleetConfig } from '../../../sim/config';
import { startFleet, type RunningFleet } from '../../../sim/fleet';
import { createSimMeter, type SimMeter } from '../../../sim/meter';
import type { MeterSlot } from '../../../sim/slot';
import { SIM_KEYS, type SimMeterFactory } from '../../../sim/types';
import { loadContract, type Contract } from '../../helpers/asyncapi';
import { startDcud, type DcudChild } from '../../helpers/dcud';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto';
import { freePortBlock } from '../../helpers/ports';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy';
import { until } from '../../helpers/until';

jest.setTimeout(300_000);

const ID = 'dcu-fw-scale';
const LINES = 4;
const PER_GROUP = 40; // meters per serial line, and TCP meters
const SIZE = 4096;
const BLOCK = 128;
const BLOCKS = SIZE / BLOCK;
const CHUNK = 256;
const NEW = 'SIM-FW-2.0.0';
const OTHER = 'SIM-FW-1.9.0';
const IMAGE = Uint8Array.from({ length: SIZE }, (_, i) => (i * 7 + 3) & 0xff);
const OTHER_IMAGE = Uint8Array.from({ length: SIZE }, (_, i) => (i * 13 + 101) & 0xff);
const LP = '1.0.99.1.0.255';

/**
 * Roles by position j in each group of 40 (4 lines, then TCP). The always-silent meters come
 * first in their line's order, so their retries run while the others are updated.
 */
const ALWAYS_SILENT = (group: string, j: number): boolean => (j === 0 && (group === 'line1' || group === 'line3')) || (group === 'ip' && j <= 1);
const START_SILENT = (j: number): boolean => j >= 2 && j < 6;
const MID_SILENT = (j: number): boolean => j >= 6 && j < 10;
const POWER_CUT = (j: number): boolean => j === 10 || j === 11;
const PRELOAD_OTHER = (j: number): boolean => j === 12 || j === 13;
const PRELOAD_GAPS = (j: number): boolean => j === 14;

interface Seen {
  blocks: number;
  /** Block payload bytes received (re-sent blocks counted again). */
  payload: number;
  /** Blocks that arrived while the meter held another image's identifier. */
  foreign: number;
  /** Blocks whose bytes are not the held image's at that block number. */
  mismatched: number;
}

interface Meter {
  readonly serial: string;
  readonly group: string;
  readonly j: number;
  readonly slot: MeterSlot;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('firmware campaign at full scale through dcud, mosquitto and simulated lines', () => {
  let serialFleet: RunningFleet;
  let tcpFleet: RunningFleet;
  let broker: Mosquitto;
  let proxy: TcpProxy;
  let hes: MqttClient | undefined;
  let dcud: DcudChild | undefined;
  let dir: string;
  let contract: Contract;
  let outputs = '';
  const seen = new Map<string, Seen>();
  const onBlock = new Map<string, (targetBlocks: number) => void>();
  let recording = false;
  let wake: NodeJS.Timeout | undefined;

  const factory: SimMeterFactory = (spec, deps, o) => {
    const m = createSimMeter(spec, deps, { ...o, imageTransfer: { blockSize: BLOCK, verifyDelayMs: 150, activationDelayMs: 150 } });
    m.core.onImageStep((input, before) => {
      if (input.type !== 'block' || !recording) return;
      const s = seen.get(spec.serial) ?? { blocks: 0, payload: 0, foreign: 0, mismatched: 0 };
      seen.set(spec.serial, s);
      s.blocks++;
      s.payload += input.value.length;
      const held = text(before.identifier);
      if (held !== NEW) s.foreign++;
      const source = held === NEW ? IMAGE : held === OTHER ? OTHER_IMAGE : undefined;
      const want = source?.subarray(input.number * BLOCK, (input.number + 1) * BLOCK);
      if (want === undefined || !bytesEqual(want, input.value)) s.mismatched++;
      onBlock.get(spec.serial)?.(s.blocks - s.foreign);
    });
    return m;
  };

  beforeAll(async () => {
    contract = await loadContract();
    dir = mkdtempSync(join(tmpdir(), 'dcud-fw-scale-'));
    const common = { latencyMs: 0, jitterMs: 0, capturePeriodS: 60, profileDepthDays: 1, hdlc: { maxInfoTx: 512, maxInfoRx: 512 } };
    const silentAll = { silent: [{ fromMs: 0, toMs: 3_600_000 }] };
    serialFleet = await startFleet(
      parseFleetConfig({ ...common, meters: LINES * PER_GROUP, serialLines: LINES, baud: 0, meterFaults: { [String(PER_GROUP)]: silentAll, [String(3 * PER_GROUP)]: silentAll } }, 'serial fleet'),
      { meterFactory: factory },
    );
    tcpFleet = await startFleet(
      parseFleetConfig({ ...common, meters: PER_GROUP, serialPrefix: 'IP', tcpBasePort: await freePortBlock(PER_GROUP), meterFaults: { '0': silentAll, '1': silentAll } }, 'tcp fleet'),
      { meterFactory: factory },
    );
    broker = await startMosquitto();
    proxy = await startTcpProxy(broker.port);
  });

  afterAll(async () => {
    clearInterval(wake);
    await dcud?.stop();
    await hes?.endAsync(true);
    await proxy.close();
    await broker.close();
    await serialFleet.stop();
    await tcpFleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('updates every reachable meter, reports the unreachable ones for field work, and never mixes images', async () => {
    const t0 = Date.now();
    const phases: string[] = [];
    const phase = (what: string): void => {
      phases.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    };
    // ---------------------------------------------------------------- the meters
    const meters: Meter[] = [
      ...serialFleet.slots.map((slot, i) => ({ serial: slot.spec.serial, group: `line${Math.floor(i / PER_GROUP)}`, j: i % PER_GROUP, slot })),
      ...tcpFleet.slots.map((slot, j) => ({ serial: slot.spec.serial, group: 'ip', j, slot })),
    ];
    const sim = (m: Meter): SimMeter => m.slot.meter as SimMeter;
    for (const m of meters) {
      if (PRELOAD_OTHER(m.j)) {
        sim(m).core.imageStep({ type: 'initiate', identifier: new TextEncoder().encode(OTHER), size: SIZE });
        for (let n = 0; n < 10; n++) sim(m).core.imageStep({ type: 'block', number: n, value: OTHER_IMAGE.subarray(n * BLOCK, (n + 1) * BLOCK) });
      }
      if (PRELOAD_GAPS(m.j)) {
        sim(m).core.imageStep({ type: 'initiate', identifier: new TextEncoder().encode(NEW), size: SIZE });
        for (const n of [0, 1, 2, 3, 4, 8, 9, 10, 20]) sim(m).core.imageStep({ type: 'block', number: n, value: IMAGE.subarray(n * BLOCK, (n + 1) * BLOCK) });
      }
    }
    const silentAlways = meters.filter((m) => ALWAYS_SILENT(m.group, m.j));
    const reachable = meters.filter((m) => !ALWAYS_SILENT(m.group, m.j));
    expect(meters.length).toBe(200);
    expect(silentAlways.length).toBe(4);
    expect(meters.filter((m) => START_SILENT(m.j) || MID_SILENT(m.j)).length).toBe(40);

    // Mid-transfer faults, fired by the meter's own progress (after the block that triggers them).
    const cuts: string[] = [];
    for (const m of meters) {
      if (POWER_CUT(m.j)) {
        onBlock.set(m.serial, (n) => {
          if (n !== 8) return;
          setImmediate(() => {
            cuts.push(m.serial);
            m.slot.powerCut();
            m.slot.faults.silenceFor(1500);
          });
        });
      }
      if (MID_SILENT(m.j)) onBlock.set(m.serial, (n) => (n === 12 ? m.slot.faults.silenceFor(3000) : undefined));
    }

    // ---------------------------------------------------------------- dcud
    const file = join(dir, 'dcu.yaml');
    const store = join(dir, 'state', 'dcu.sqlite');
    const hls = `client: 1, auth: high-gmac, systemTitle: "4443553030303031", keys: { blockKey: ${SIM_KEYS.blockKey}, authKey: ${SIM_KEYS.authKey} }`;
    writeFileSync(
      file,
      [
        `id: ${ID}`,
        `stateDir: ${join(dir, 'state')}`,
        'timeZone: UTC',
        `mqtt: { url: "mqtt://127.0.0.1:${proxy.port}", keepalive: 5s, connectTimeout: 2s, reconnectMin: 200ms, reconnectMax: 1s }`,
        'lines:',
        ...serialFleet.lines.map((l) => `  - { name: ${l.name}, serial: { path: ${l.device}, baud: 115200 }, timeout: 500ms, retries: 1 }`),
        '  - { name: ip, tcp: { concurrency: 8 }, timeout: 500ms, retries: 1 }',
        'meters:',
        ...serialFleet.endpoints.map((e) => `  - { serial: ${e.serial}, line: line${e.line?.index ?? 0}, address: "${e.logicalDevice}/${e.physicalAddress}", ${hls} }`),
        ...tcpFleet.endpoints.map((e) => `  - { serial: ${e.serial}, line: ip, address: "127.0.0.1:${e.tcp?.port ?? 0}", ${hls} }`),
        'collection:',
        ...DATA_CLASSES.map((c) => (c === 'load-profile' ? '  load-profile: { every: 1m, backfill: 10m }' : `  ${c}: { every: 1d, enabled: false }`)),
        '',
      ].join('\n'),
    );
    const start = async (): Promise<void> => {
      if (dcud !== undefined) outputs += dcud.output();
      dcud = await startDcud(file, 60_000);
    };
    const log = (): string => `${outputs}${dcud?.output() ?? ''}`.slice(-4000);
    await start();

    // ---------------------------------------------------------------- the HES
    const answers = new Map<string, Record<string, unknown>[]>();
    const results = new Map<number, Record<string, unknown>>();
    let births = 0;
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'hes-fw-scale' });
    hes = client;
    client.on('message', (topic, payload, packet) => {
      const doc = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (topic.startsWith('hes/')) {
        const key = packet.properties?.correlationData?.toString() ?? '';
        (answers.get(key) ?? answers.set(key, []).get(key))?.push(doc);
        return;
      }
      contract.check(topic, doc);
      if (topic.endsWith('/status') && doc.state === 'online') births++;
      if (topic.endsWith('/data/results')) for (const item of doc.items as { seq: number }[]) results.set(item.seq, item);
    });
    await client.subscribeAsync(['hes/replies/#', `dcu/${ID}/status`, `dcu/${ID}/data/results`], { qos: 1 });
    let n = 0;
    const send = async (name: string, body: object): Promise<string> => {
      const key = `k${++n}`;
      await client.publishAsync(`dcu/${ID}/cmd/${name}`, JSON.stringify(body), { qos: 1, properties: { responseTopic: `hes/replies/${key}`, correlationData: Buffer.from(key) } });
      return key;
    };
    const answer = async (key: string, ms = 30_000): Promise<Record<string, unknown>> => {
      await until(() => (answers.get(key) ?? []).length > 0, `the answer ${key}`, ms).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${log()}`);
      });
      const a = answers.get(key)?.[0] ?? {};
      expect(a.type).not.toBe('error');
      return a;
    };
    const ask = async (name: string, body: object): Promise<Record<string, unknown>> => {
      const a = await answer(await send(name, body));
      contract.checkMessage(`cmd-${name}-answer`, a);
      return a;
    };
    await until(() => births > 0, 'dcud online on the broker', 30_000);
    phase('dcud online');

    // ---------------------------------------------------------------- image intake, WAN cut in the middle
    const chunks = SIZE / CHUNK;
    const sha256 = createHash('sha256').update(IMAGE).digest('hex');
    const manifest = { id: 'fw20', version: NEW, size: SIZE, sha256, chunks };
    expect(await ask('fw-image', { manifest })).toMatchObject({ type: 'ok', image: { state: 'receiving', missing: Array.from({ length: chunks }, (_, i) => i) } });
    const chunk = (i: number): object => ({ image: 'fw20', chunk: i, data: Buffer.from(IMAGE.subarray(i * CHUNK, (i + 1) * CHUNK)).toString('base64') });
    const half = chunks / 2;
    for (let i = 0; i < half; i++) await ask('fw-image', chunk(i));
    proxy.cut();
    const lost: string[] = [];
    for (let i = half; i < chunks; i++) lost.push(await send('fw-image', chunk(i)));
    await new Promise((r) => setTimeout(r, 1500)); // the outage lasts a while
    expect(lost.filter((k) => answers.has(k))).toEqual([]); // nothing got through the cut
    const before = births;
    proxy.restore();
    await until(() => births > before, 'dcud back on the broker after the WAN outage', 30_000);
    // As the README says a HES does after a WAN drop: the manifest again, then what is missing.
    const state = (await ask('fw-image', { manifest })) as { image: { state: string; missing: number[] } };
    expect(state.image.state).toBe('receiving');
    expect(state.image.missing).toEqual(Array.from({ length: chunks - half }, (_, i) => half + i));
    let last: Record<string, unknown> = {};
    for (const i of state.image.missing) last = await ask('fw-image', chunk(i));
    expect(last).toMatchObject({ type: 'ok', image: { state: 'complete', missing: [] } });

    phase('image complete');
    // ---------------------------------------------------------------- the campaign
    const ro = (): Database.Database => new Database(store, { readonly: true, fileMustExist: true });
    recording = true;
    // Silent from now until the campaign has failed on them once (read from dcud's store).
    const silentAtStart = new Map(meters.filter((m) => START_SILENT(m.j)).map((m) => [m.serial, m]));
    for (const m of silentAtStart.values()) m.slot.faults.silenceFor(3_600_000);
    wake = setInterval(() => {
      if (silentAtStart.size === 0) return;
      try {
        const db = ro();
        try {
          for (const r of db.prepare("SELECT meter FROM fw_campaign_meters WHERE campaign = 'scale' AND attempts > 0").all() as { meter: string }[]) {
            silentAtStart.get(r.meter)?.slot.faults.silenceFor(0);
            silentAtStart.delete(r.meter);
          }
        } finally {
          db.close();
        }
      } catch {
        // the store is between two dcud processes: look again
      }
    }, 250);
    const created = await ask('fw-campaign-create', { id: 'scale', image: 'fw20', all: true, retries: 4, retryInterval: '300ms', deadline: '30m', pollInterval: '300ms' });
    expect(created).toMatchObject({ type: 'accepted', campaign: 'scale', meters: 200 });
    const campaignStart = Date.now();

    const campaignState = (): string => {
      try {
        const db = ro();
        try {
          return (db.prepare("SELECT state FROM fw_campaigns WHERE id = 'scale'").get() as { state: string } | undefined)?.state ?? '';
        } finally {
          db.close();
        }
      } catch {
        return '';
      }
    };
    const ended = (): boolean => [...results.values()].some((r) => r.type === 'fw-campaign-done');
    const targetBlocks = (): number => [...seen.values()].reduce((a, s) => a + s.blocks - s.foreign, 0);
    const expected = reachable.length * BLOCKS;
    const kills: { blocks: number; state: string }[] = [];
    for (const fraction of [0.2, 0.45, 0.7]) {
      await until(() => targetBlocks() >= fraction * expected || ended(), `${Math.round(fraction * 100)} % of the blocks sent`, 180_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${log()}`);
      });
      const child = dcud?.child;
      if (child === undefined) throw new Error('no dcud');
      const closed = new Promise((r) => child.once('close', r));
      child.kill('SIGKILL');
      await closed;
      kills.push({ blocks: targetBlocks(), state: campaignState() });
      await start();
    }
    expect(kills.map((k) => k.state)).toEqual(['running', 'running', 'running']);
    await until(ended, 'the campaign to end (fw-campaign-done on data/results)', 180_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${log()}`);
    });
    const campaignMs = Date.now() - campaignStart;
    phase('campaign done');
    clearInterval(wake);
    expect([...silentAtStart.keys()]).toEqual([]);

    // ---------------------------------------------------------------- bytes per line
    const stats = serialFleet.stats();
    const rows = [...stats.lines.map((l) => ({ line: l.name, in: l.bytesIn, out: l.bytesOut, frames: `, ${l.frames} HDLC frames in` })), { line: 'ip', in: tcpFleet.stats().tcpBytes.in, out: tcpFleet.stats().tcpBytes.out, frames: '' }];
    const report: string[] = [`campaign ${(campaignMs / 1000).toFixed(1)} s wall; kills at ${kills.map((k) => k.blocks).join(', ')} of ${expected} blocks`];
    const within: { line: string; payload: number; withinBound: boolean }[] = [];
    for (const r of rows) {
      const onLine = reachable.filter((m) => m.group === r.line);
      const payload = meters.filter((m) => m.group === r.line).reduce((a, m) => a + (seen.get(m.serial)?.payload ?? 0), 0);
      const bound = 1.1 * SIZE * onLine.length;
      const overhead = r.in + r.out - payload;
      report.push(`${r.line}: image payload ${payload} B (bound ${Math.round(bound)}: ${onLine.length} meters × ${SIZE} B × 1.1), line bytes in ${r.in} out ${r.out}${r.frames}, protocol overhead ${overhead} B (${Math.round(overhead / onLine.length)} B per meter)`);
      within.push({ line: r.line, payload, withinBound: payload <= bound });
    }
    process.stdout.write(`${report.join('\n')}\n`);
    expect(within.filter((w) => !w.withinBound)).toEqual([]);

    // ---------------------------------------------------------------- results as the HES sees them
    const status = (await ask('fw-campaign-status', { campaign: 'scale' })).status as {
      state: string;
      counts: Record<string, number>;
      meters: { meter: string; state: string; reason: string | null; detail: string | null; attempts: number }[];
      fieldWorkOrder: { meter: string; reason: string }[];
    };
    const silentSerials = silentAlways.map((m) => m.serial).sort();
    expect(status.state).toBe('done');
    // the KO meters with their details in the message when more than the silent ones failed
    expect({ counts: status.counts, ko: status.meters.filter((m) => m.state === 'KO' && !silentSerials.includes(m.meter)).map((m) => `${m.meter}: ${m.reason ?? ''} after ${m.attempts}: ${m.detail ?? ''}`) }).toEqual({ counts: { OK: 196, KO: 4 }, ko: [] });
    expect(status.meters.filter((m) => m.state === 'KO').map((m) => [m.meter, m.reason]).sort()).toEqual(silentSerials.map((s) => [s, 'unreachable']));
    expect(status.fieldWorkOrder.map((w) => [w.meter, w.reason]).sort()).toEqual(silentSerials.map((s) => [s, 'unreachable']));
    const items = [...results.values()];
    const finals = items.filter((r) => r.type === 'fw-meter-result');
    const final = new Map(finals.map((r) => [r.meter as string, r]));
    expect(final.size).toBe(200);
    expect(finals.length).toBe(200); // one result per meter, whatever the kills (re-sends keep their seq)
    expect(items.filter((r) => r.type === 'fw-campaign-done' || r.type === 'field-work-order').map((r) => r.type).sort()).toEqual(['field-work-order', 'fw-campaign-done']);
    for (const m of reachable) expect(final.get(m.serial)).toMatchObject({ status: 'OK', firmware: NEW, transferred: true });
    for (const m of silentAlways) expect(final.get(m.serial)).toMatchObject({ status: 'KO', reason: 'unreachable', attempts: 5 });
    expect(items.find((r) => r.type === 'fw-campaign-done')).toMatchObject({ campaign: 'scale', state: 'done', ok: 196, ko: 4 });
    const work = items.find((r) => r.type === 'field-work-order') as { meters: { meter: string; reason: string }[] } | undefined;
    expect(work?.meters.map((w) => [w.meter, w.reason]).sort()).toEqual(silentSerials.map((s) => [s, 'unreachable']));

    // ---------------------------------------------------------------- the meters themselves
    for (const m of reachable) {
      const core = sim(m).core;
      expect({ meter: m.serial, firmware: core.firmwareId, image: bytesEqual(core.imageState().image, IMAGE) }).toEqual({ meter: m.serial, firmware: NEW, image: true });
    }
    for (const m of silentAlways) expect(m.slot.peek() === undefined || (m.slot.peek() as SimMeter).core.firmwareId !== NEW).toBe(true);
    const bad = [...seen.entries()].filter(([, s]) => s.foreign > 0 || s.mismatched > 0);
    expect(bad).toEqual([]); // no meter received a block of another image
    // the faults really happened where they were meant to
    expect(cuts.sort()).toEqual(meters.filter((m) => POWER_CUT(m.j)).map((m) => m.serial).sort());
    // attempts counts the one that succeeded too: failed ones are one fewer for an OK meter.
    const failures = new Map(status.meters.map((m) => [m.meter, m.state === 'OK' ? m.attempts - 1 : m.attempts]));
    const neverFailed = meters.filter((m) => (START_SILENT(m.j) || MID_SILENT(m.j) || POWER_CUT(m.j)) && (failures.get(m.serial) ?? 0) === 0).map((m) => m.serial);
    expect(neverFailed).toEqual([]); // dcud met each of them unreachable at least once, and retried

    // ---------------------------------------------------------------- load profile kept complete
    // Every meter never made unreachable has every 1-minute row from 5 minutes before the campaign
    // up to its watermark, and the watermark is at most one interval behind the campaign's end.
    // (A meter that failed a collection is tried again after the collector's back-off — one
    // cycle, doubling while it fails — so the silent and power-cut meters may catch up after the
    // test's window; test/daemon/collect/retry-pause.test.ts shows one catching up, nothing lost.)
    const clean = meters.filter((m) => !ALWAYS_SILENT(m.group, m.j) && !START_SILENT(m.j) && !MID_SILENT(m.j) && !POWER_CUT(m.j));
    const from = Math.floor(campaignStart / 60_000) * 60_000 - 5 * 60_000;
    const to = Math.floor((campaignStart + campaignMs) / 60_000) * 60_000 - 60_000;
    const gaps = (): { meter: string; upTo: number; rows: number }[] => {
      const db = ro();
      try {
        const wm = db.prepare('SELECT collected_to AS t FROM watermarks WHERE meter = ? AND profile = ?');
        const q = db.prepare('SELECT count(*) AS n FROM profile_rows WHERE meter = ? AND profile = ? AND captured_at >= ? AND captured_at <= ?');
        return clean
          .map((m) => {
            const upTo = Math.floor(((wm.get(m.serial, LP) as { t: number } | undefined)?.t ?? 0) / 60_000) * 60_000;
            return { meter: m.serial, upTo, rows: (q.get(m.serial, LP, from, upTo) as { n: number }).n };
          })
          .filter((c) => c.upTo < to || c.rows !== (c.upTo - from) / 60_000 + 1);
      } finally {
        db.close();
      }
    };
    let nextLook = 0;
    await until(() => Date.now() >= nextLook && (nextLook = Date.now() + 250) > 0 && gaps().length === 0, 'the load profile of every meter complete', 90_000).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(gaps().slice(0, 5))} (from ${from}, to ${to})`);
    });
    phase('load profile complete');
    process.stdout.write(`${phases.join(', ')}\n`);
    expect(await dcud?.stop()).toBe(0);
    dcud = undefined;
  });
});
