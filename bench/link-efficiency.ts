import { createSimMeter } from '../sim/meter';
import { loneMeterSpec, type SimMeterSpec } from '../sim/types';
import { encodeData } from '../protocol/axdr/codec';
import { DlmsClient } from '../protocol/client/client';
import { transferImage } from '../protocol/client/image-transfer';
import { FakeClock } from '../protocol/common/clock';
import { encodeAccessSelector, rangeByTime } from '../protocol/cosem/selective-access';
import { obis } from '../protocol/cosem/obis';
import { HdlcMeterStation, WrapperMeterStation } from '../protocol/server/station';
import type { Bench, Figure } from './harness';
import { sessionFigures } from './session-read';
import { runVirtual, VirtualLine } from './virtual-line';

/**
 * Link efficiency: payload bytes per second divided by the line rate (baud/10 bytes/s, 8N1)
 * on an emulated 9,600-baud half-duplex line with 30 ms turnaround at every change of
 * direction, in virtual time. Counted: from the first byte of the first request to the
 * last byte of the last answer of the operation, association set-up excluded.
 *   - profile: one GET of a 1-day 15-min load profile buffer (96 rows) selected by range;
 *     payload = the A-XDR bytes of the buffer.
 *   - image: a 256 KiB firmware image through IC18 (initiate, blocks, verify, activate);
 *     payload = the image bytes.
 * Bytes on the line include every frame both ways (HDLC or wrapper headers, LLC, GBT headers,
 * acknowledgements, RR polls); time includes a turnaround at every change of direction.
 */

const BAUD = 9600;
const TURNAROUND_MS = 30;
const NOW = Date.UTC(2026, 10, 23, 12);
const SPEC: SimMeterSpec = loneMeterSpec([{ client: 1, auth: 'low', password: '00000000' }]);

interface Grant {
  name: string;
  maxInfo: number;
  window: number;
  maxPdu: number;
  /** Meter send buffer when it differs from maxPdu. */
  maxSendPdu?: number;
  imageBlock: number;
  /** The meter offers general block transfer (the client always proposes it). Default false: the figures before GBT. */
  gbt?: boolean;
  /** Default 'hdlc' with the grant's max-info and window; 'wrapper' has no link layer of its own. */
  framing?: 'hdlc' | 'wrapper';
  goal?: { profile?: string; image?: string };
}

/**
 * The two grants the issue names, plus the variants that show where the remaining overhead
 * sits: a 1,024-byte image block cannot travel in one ACTION under a 1,024-byte PDU (the
 * request adds ~25 bytes of header, so every block needs two ACTION pblocks and two round
 * trips), and a meter that answers only in 1,024-byte GET blocks pays a round trip per block.
 */
export const GRANTS: readonly Grant[] = [
  { name: '128 B / window 1', maxInfo: 128, window: 1, maxPdu: 1024, imageBlock: 1024 },
  { name: '1024 B / window 7 / PDU 1024 / block 1024', maxInfo: 1024, window: 7, maxPdu: 1024, imageBlock: 1024, goal: { profile: '≥ 0.90', image: '≥ 0.85' } },
  { name: '1024 B / window 7 / PDU 1024, answers up to 64 KiB / block 992', maxInfo: 1024, window: 7, maxPdu: 1024, maxSendPdu: 0xffff, imageBlock: 992 },
  /*
   * General block transfer. Over HDLC both link ends carry several APDUs per transmission: a
   * GBT burst goes as consecutive I-frames up to the HDLC window (P/F on the last frame, the
   * rest after an RR), so GBT streams within the GBT windows (client 16, meter 7) on HDLC as
   * on the wrapper (no link layer of its own, same virtual line).
   */
  { name: '1024 B / window 7 / PDU 1024 / block 1024, GBT granted (HDLC streaming)', maxInfo: 1024, window: 7, maxPdu: 1024, imageBlock: 1024, gbt: true, goal: { profile: '≥ 0.90', image: '≥ 0.85' } },
  { name: 'wrapper / PDU 1024 / block 1024, no GBT', maxInfo: 1024, window: 7, maxPdu: 1024, imageBlock: 1024, framing: 'wrapper' },
  { name: 'wrapper / PDU 1024 / block 1024, GBT granted (streaming)', maxInfo: 1024, window: 7, maxPdu: 1024, imageBlock: 1024, gbt: true, framing: 'wrapper' },
];

async function withLink<T>(grant: Grant, op: (client: DlmsClient, clock: FakeClock, line: VirtualLine) => Promise<T>): Promise<T> {
  const clock = new FakeClock(NOW);
  const line = new VirtualLine(clock, BAUD, TURNAROUND_MS);
  const meter = createSimMeter(SPEC, { clock }, {
    maxPduSize: grant.maxPdu,
    ...(grant.maxSendPdu === undefined ? {} : { maxSendPduSize: grant.maxSendPdu }),
    profileDepthDays: 3,
    imageTransfer: { blockSize: grant.imageBlock },
    generalBlockTransfer: grant.gbt === true,
  });
  const framing = grant.framing ?? 'hdlc';
  const station =
    framing === 'hdlc'
      ? new HdlcMeterStation({
          handler: meter.handler,
          address: { logical: 1, physical: 16, size: 2 },
          limits: { maxInfoTx: grant.maxInfo, maxInfoRx: grant.maxInfo, windowTx: grant.window, windowRx: grant.window },
          notify: () => flush(),
        })
      : new WrapperMeterStation({ handler: meter.handler, notify: () => flush() });
  const flush = (): void => {
    for (let out = station.takeOutput(); out; out = station.takeOutput()) void line.b.write(out);
  };
  line.b.onData((chunk) => {
    station.receive(chunk);
    flush();
  });
  const client = new DlmsClient(line.a, {
    framing,
    clientAddress: 1,
    serverAddress: { logical: 1, physical: 16, size: 2 },
    authentication: { mechanism: 'low', password: new TextEncoder().encode('00000000') },
    responseTimeoutMs: 10_000,
    retries: 3,
    clock,
  });
  return runVirtual(clock, async () => {
    await client.connect();
    const result = await op(client, clock, line);
    await client.release();
    return result;
  });
}

export async function profileEfficiency(grant: Grant): Promise<{ efficiency: number; seconds: number; payload: number; bytesOnLine: number }> {
  return withLink(grant, async (client, clock, line) => {
    const from = Date.UTC(2026, 10, 22);
    const access = encodeAccessSelector(rangeByTime(from, from + 95 * 900_000));
    const before = { t: clock.now(), bytes: line.bytes.a + line.bytes.b };
    const buffer = await client.getValue({ classId: 7, obis: obis('1.0.99.1.0.255'), index: 2 }, access);
    const seconds = (clock.now() - before.t) / 1000;
    const payload = encodeData(buffer).length;
    if (buffer.type !== 'array' || buffer.items.length !== 96) throw new Error(`expected 96 rows, got ${buffer.type}`);
    return { efficiency: payload / seconds / (BAUD / 10), seconds, payload, bytesOnLine: line.bytes.a + line.bytes.b - before.bytes };
  });
}

export async function imageEfficiency(grant: Grant): Promise<{ efficiency: number; seconds: number; payload: number; bytesOnLine: number }> {
  const image = Uint8Array.from({ length: 256 * 1024 }, (_, i) => (i * 7) & 0xff);
  return withLink(grant, async (client, clock, line) => {
    const before = { t: clock.now(), bytes: line.bytes.a + line.bytes.b };
    const report = await transferImage(client, { identifier: new TextEncoder().encode('FW-BENCH'), image, pollIntervalMs: 100 });
    if (report.status !== 6) throw new Error(`image not activated (status ${report.status})`);
    const seconds = (clock.now() - before.t) / 1000;
    return { efficiency: image.length / seconds / (BAUD / 10), seconds, payload: image.length, bytesOnLine: line.bytes.a + line.bytes.b - before.bytes };
  });
}

export const linkEfficiencyBench: Bench = {
  name: 'link-efficiency',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    for (const g of GRANTS) {
      const p = await profileEfficiency(g);
      figures.push({
        name: `1-day load profile read, ${g.name}`,
        value: p.efficiency,
        unit: 'of line rate',
        ...(g.goal?.profile ? { goal: g.goal.profile } : {}),
        detail: { seconds: p.seconds, payloadBytes: p.payload, bytesOnLine: p.bytesOnLine, baud: BAUD, turnaroundMs: TURNAROUND_MS },
      });
      const i = await imageEfficiency(g);
      figures.push({
        name: `256 KiB image transfer, ${g.name}`,
        value: i.efficiency,
        unit: 'of line rate',
        ...(g.goal?.image ? { goal: g.goal.image } : {}),
        detail: { seconds: i.seconds, payloadBytes: i.payload, bytesOnLine: i.bytesOnLine, baud: BAUD, turnaroundMs: TURNAROUND_MS },
      });
    }
    figures.push(...(await sessionFigures()));
    return figures;
  },
};
