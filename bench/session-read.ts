import { createSimMeter } from '../sim/meter';
import { loneMeterSpec, type SimMeterSpec } from '../sim/types';
import { DlmsClient } from '../protocol/client/client';
import { MemoryMetadataCache } from '../protocol/client/meta-cache';
import { readProfile, type MetadataSource } from '../protocol/client/profile-read';
import { FakeClock } from '../protocol/common/clock';
import { obis } from '../protocol/cosem/obis';
import { HdlcMeterStation } from '../protocol/server/station';
import type { Figure } from './harness';
import { runVirtual, VirtualLine } from './virtual-line';

/**
 * A whole `dcu probe profile` session on a slow line, as a technician or a collection job
 * sees it: SNRM, association, the 1-day load profile read (metadata + buffer by range),
 * release, disconnect — HDLC 128-byte frames / window 1 (the most common grant), 9,600 baud,
 * 15 ms one-way latency, 15 ms meter turnaround (our side answers at once).
 *
 * Line-rate bound: every byte that crossed the line in the session, half duplex, at the baud
 * rate (10 bits a byte), nothing else — no latency, no turnaround. The ratio session time ÷
 * bound is what round trips cost: each one adds 2 × latency + turnaround = 45 ms. With window
 * 1 each 128-byte frame of an answer needs its own RR poll, so the floor of the ratio is set
 * by the answer's frame count, not by our requests; `floor` below is the bound plus 45 ms per
 * round trip that cannot be avoided (one per frame the meter sends: UA, AARE, each answer
 * frame, RLRE, UA).
 */

const BAUD = 9600;
const LATENCY_MS = 15;
const METER_TURNAROUND_MS = 15;
const NOW = Date.UTC(2026, 10, 23, 12);
const PROFILE = obis('1.0.99.1.0.255');
const SPEC: SimMeterSpec = loneMeterSpec([{ client: 1, auth: 'low', password: '00000000' }]);

export interface SessionFigures {
  seconds: number;
  boundSeconds: number;
  ratio: number;
  roundTrips: number;
  /** Frames the meter sent: each is a round trip at window 1. */
  meterFrames: number;
  bytesOnLine: number;
  metadata: MetadataSource;
}

/** One session; `cache` shared between calls makes the second one warm. */
export async function profileSession(cache: MemoryMetadataCache | undefined): Promise<SessionFigures> {
  const clock = new FakeClock(NOW);
  const line = new VirtualLine(clock, BAUD, 0, { latencyMs: LATENCY_MS, turnaroundMs: { a: 0, b: METER_TURNAROUND_MS } });
  const meter = createSimMeter(SPEC, { clock }, { maxPduSize: 1024, profileDepthDays: 3, generalBlockTransfer: false });
  let meterFrames = 0;
  const station = new HdlcMeterStation({
    handler: meter.handler,
    address: { logical: 1, physical: 16, size: 2 },
    limits: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 },
    notify: () => flush(),
  });
  const flush = (): void => {
    for (let out = station.takeOutput(); out; out = station.takeOutput()) {
      meterFrames++;
      void line.b.write(out);
    }
  };
  line.b.onData((chunk) => {
    station.receive(chunk);
    flush();
  });
  const client = new DlmsClient(line.a, {
    framing: 'hdlc',
    clientAddress: 1,
    serverAddress: { logical: 1, physical: 16, size: 2 },
    authentication: { mechanism: 'low', password: new TextEncoder().encode('00000000') },
    responseTimeoutMs: 10_000,
    retries: 3,
    clock,
  });
  const from = Date.UTC(2026, 10, 22);
  return runVirtual(clock, async () => {
    const t0 = clock.now();
    await client.connect();
    const p = await readProfile(client, PROFILE, { from, to: from + 95 * 900_000, ...(cache === undefined ? {} : { cache: { store: cache, key: 'bench|server 1/16' } }) });
    await client.release();
    if (p.rows.length !== 96) throw new Error(`expected 96 rows, got ${p.rows.length}`);
    const seconds = (clock.now() - t0) / 1000;
    const bytesOnLine = line.bytes.a + line.bytes.b;
    const boundSeconds = (bytesOnLine * 10) / BAUD;
    return { seconds, boundSeconds, ratio: seconds / boundSeconds, roundTrips: line.roundTrips, meterFrames, bytesOnLine, metadata: p.metadata };
  });
}

export async function sessionFigures(): Promise<Figure[]> {
  const cache = new MemoryMetadataCache();
  const runs: [string, SessionFigures][] = [
    ['no cache', await profileSession(undefined)],
    ['cold cache', await profileSession(cache)],
    ['warm cache', await profileSession(cache)],
  ];
  const perRoundTrip = 2 * LATENCY_MS + METER_TURNAROUND_MS;
  const floor = (f: SessionFigures): number => (f.boundSeconds + (f.meterFrames * perRoundTrip) / 1000) / f.boundSeconds;
  return runs.map(([name, f]) => ({
    name: `session (associate + 1-day profile, 128 B/window 1, 9,600 Bd, 15 ms latency + 15 ms turnaround), ${name}: ${f.seconds.toFixed(2)} s, ${f.roundTrips} round trips, floor ${floor(f).toFixed(3)}×`,
    value: f.ratio,
    unit: '× line-rate bound',
    ...(name === 'warm cache' ? { goal: '≤ 1.25' } : {}),
    detail: {
      seconds: f.seconds,
      boundSeconds: f.boundSeconds,
      roundTrips: f.roundTrips,
      meterFrames: f.meterFrames,
      floorRatio: floor(f),
      bytesOnLine: f.bytesOnLine,
      metadata: f.metadata,
      baud: BAUD,
      latencyMs: LATENCY_MS,
      meterTurnaroundMs: METER_TURNAROUND_MS,
    },
  }));
}
