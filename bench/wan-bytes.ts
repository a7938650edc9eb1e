/**
 * WAN cost of the HES uplink: MQTT bytes on the wire per meter-day, against the raw DLMS
 * bytes of the same data.
 *
 * A meter-day: 96 rows of 15-min load profile (4 channels, realistic magnitudes: cumulative
 * Wh/varh counters of 6–8 digits), one read of the 4 energy registers, 5 events of the
 * standard event log. The store is filled for METERS meters as collection writes it (one
 * outbox message per meter and class), then the real uplink drains it to a local mosquitto
 * through a counting TCP proxy: every byte both ways (CONNECT, birth, PUBLISH with topic,
 * properties and payload, PUBACK, DISCONNECT) over the number of meter-days. Two regimes:
 * a backlog (batches up to 256 KiB) and one item per message (maxMessageBytes 1 KiB, as in
 * steady state where each collection step leaves alone).
 *
 * Raw DLMS: the xDLMS GET responses carrying the same data, A-XDR encoded by protocol/axdr —
 * the profile buffer (array of structure{date-time, status, 4 × double-long-unsigned}), the
 * register values (get-response-with-list, values only, scaler/unit cached) and the event
 * log buffer (array of structure{date-time, unsigned}). No requests, no HDLC/wrapper framing,
 * no block-transfer headers, no ciphering: a lower bound of what the meters send, so the
 * ratio is conservative.
 *
 * "deflated" is computed: each captured payload compressed alone with raw deflate (level 9)
 * in place of the payload; not yet a selectable encoding.
 */
import mqtt from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { MqttConfig } from '../config/schema';
import { array, octets, structure, uint32, uint8, type Data } from '../protocol/axdr/data';
import { encodeData } from '../protocol/axdr/codec';
import { systemClock } from '../protocol/common/clock';
import { nullLogger } from '../protocol/common/log';
import { openStore, type Db } from '../storage/db';
import { ReadingsStore } from '../storage/readings';
import { LP_COLUMNS } from '../daemon/uplink/fixture';
import { startUplink } from '../daemon/uplink/uplink';
import type { Encoding } from '../daemon/uplink/encode';
import { startMosquitto } from '../test/helpers/mosquitto';
import { startTcpProxy } from '../test/helpers/tcp-proxy';
import type { Bench, Figure } from './harness';

const METERS = 200;
const DAY = Date.UTC(2026, 0, 1);
const ROWS = 96;
const EVENTS = [1, 2, 4, 5, 47];

interface MeterDay {
  readonly rows: { capturedAt: number; cells: string[] }[];
  readonly registers: { name: string; obis: string; value: string; unit: string }[];
  readonly events: { at: number; code: number }[];
}

function meterDay(m: number): MeterDay {
  const base = [18_000_000 + m * 1_013, 120_000 + m * 17, 2_400_000 + m * 301, 510_000 + m * 29];
  const rows = Array.from({ length: ROWS }, (_, i) => {
    const load = [(i * 37 + m) % 400, i % 7 === 0 ? 3 : 0, (i * 11 + m) % 90, (i * 5) % 30];
    for (let c = 0; c < 4; c++) base[c] = (base[c] ?? 0) + (load[c] ?? 0);
    return { capturedAt: DAY + (i + 1) * 900_000, cells: base.map(String) };
  });
  const registers = ['+A', '-A', '+R', '-R'].map((name, c) => ({ name, obis: `1.0.${c + 1}.8.0.255`, value: String(base[c]), unit: c < 2 ? 'Wh' : 'varh' }));
  return { rows, registers, events: EVENTS.map((code, i) => ({ at: DAY + 3_600_000 * (3 + i * 4) + m * 1000, code })) };
}

/** The xDLMS GET responses carrying one meter-day (see the header). */
function rawDlmsBytes(d: MeterDay): number {
  const clock = (): Data => octets(new Uint8Array(12));
  const getNormal = (data: Data): number => 4 + encodeData(data).length; // C4 01 invoke 00 data
  const profile = getNormal(array(d.rows.map((r) => structure(clock(), uint8(0), ...r.cells.map((v) => uint32(Number(v)))))));
  const registers = 4 + d.registers.reduce((n, r) => n + 1 + encodeData(uint32(Number(r.value))).length, 0); // C4 03 invoke count, 00 data each
  const events = getNormal(array(d.events.map((e) => structure(clock(), uint8(e.code)))));
  return profile + registers + events;
}

function fill(db: Db, days: readonly MeterDay[]): void {
  const readings = new ReadingsStore(db);
  days.forEach((d, m) => {
    const meter = `M${String(m).padStart(6, '0')}`;
    const end = DAY + 86_400_000;
    readings.storeProfileRows({ meter, profile: '1.0.99.1.0.255', stream: 'load-profile', columns: LP_COLUMNS, rows: d.rows, collectedTo: end }, end);
    readings.storeRegisters(meter, end, d.registers);
    readings.storeEvents({ meter, log: '0.0.99.98.0.255', events: d.events, collectedTo: end, name: (c) => `event ${c}` }, end);
  });
}

interface Measured {
  readonly wire: number;
  readonly payload: number;
  readonly deflated: number;
  readonly messages: number;
}

async function measure(days: readonly MeterDay[], encoding: Encoding, maxMessageBytes: number): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'dcu-bench-wan-'));
  const broker = await startMosquitto();
  const proxy = await startTcpProxy(broker.port);
  const hes = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'hes-bench' });
  let payload = 0;
  let deflated = 0;
  let messages = 0;
  hes.on('message', (topic, p) => {
    if (!topic.includes('/data/')) return;
    payload += p.length;
    deflated += deflateRawSync(p, { level: 9 }).length;
    messages++;
  });
  await hes.subscribeAsync('dcu/#', { qos: 1 });
  const db = openStore(join(dir, 'dcu.sqlite'));
  try {
    fill(db, days);
    const config: MqttConfig = { url: `mqtt://127.0.0.1:${proxy.port}`, protocol: '5', keepalive: '60s', connectTimeout: '10s', reconnectMin: '100ms', reconnectMax: '1s', sessionExpiry: '0s', window: 16, maxMessageBytes, ackTimeout: '30s', retryMin: '100ms', retryMax: '1s', appAck: false, appAckTimeout: '5m', encoding };
    const uplink = startUplink('dcu-0001', config, { db, clock: systemClock, logger: nullLogger });
    const started = performance.now();
    while ((db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n > 0) {
      if (performance.now() - started > 120_000) throw new Error(`wan-bytes: the outbox did not drain: ${JSON.stringify(uplink.health())}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await uplink.stop();
    await new Promise((r) => setTimeout(r, 100));
    const { up, down } = proxy.bytes();
    return { wire: up + down, payload, deflated, messages };
  } finally {
    db.close();
    await hes.endAsync(true);
    await proxy.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const wanBytesBench: Bench = {
  name: 'wan-bytes',
  async run(): Promise<Figure[]> {
    const days = Array.from({ length: METERS }, (_, m) => meterDay(m));
    const raw = days.reduce((n, d) => n + rawDlmsBytes(d), 0) / METERS;
    const figures: Figure[] = [{ name: `raw DLMS (xDLMS GET responses, A-XDR; ${ROWS} LP rows × 4 ch + 4 registers + ${EVENTS.length} events)`, value: raw, unit: 'B/meter-day' }];
    for (const [regime, maxBytes] of [
      ['backlog', 262_144],
      ['one item per message', 1024],
    ] as const) {
      for (const encoding of ['compact', 'json'] as const) {
        const m = await measure(days, encoding, maxBytes);
        const wire = m.wire / METERS;
        figures.push({ name: `${encoding}, ${regime}: MQTT bytes on the wire`, value: wire, unit: 'B/meter-day', ...(encoding === 'compact' ? { goal: `≤ ${raw.toFixed(0)} (1.0× raw DLMS)` } : {}), detail: { ratioToRawDlms: +(wire / raw).toFixed(3), payloadPerMeterDay: +(m.payload / METERS).toFixed(1), mqttMessages: m.messages, meters: METERS } });
        if (encoding === 'compact') {
          const d = (m.wire - m.payload + m.deflated) / METERS;
          figures.push({ name: `compact deflated (computed), ${regime}`, value: d, unit: 'B/meter-day', detail: { ratioToRawDlms: +(d / raw).toFixed(3) } });
        }
      }
    }
    return figures;
  },
};
