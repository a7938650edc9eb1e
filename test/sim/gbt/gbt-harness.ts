/**
 * GBT test set-up: the real DlmsClient and a simulated meter (protocol/server under the
 * simulator's object model) over an in-memory wrapper or HDLC link, with every APDU in both
 * directions recorded and a hook that can lose chosen APDUs; over HDLC also every frame on
 * the wire, and a hook that can lose chosen frames.
 */
import { type Apdu, decodeApdu } from '../../../protocol/apdu';
import type { Data } from '../../../protocol/axdr/data';
import { obis } from '../../../protocol/cosem/obis';
import { encodeAccessSelector, rangeByTime } from '../../../protocol/cosem/selective-access';
import type { GeneralBlockTransfer } from '../../../protocol/apdu/gbt';
import { DlmsClient, type ClientOptionsInput } from '../../../protocol/client/client';
import { systemClock } from '../../../protocol/common/clock';
import type { ApduHandler, ServerSession } from '../../../protocol/server/contract';
import { createSimMeter } from '../../../sim/meter';
import type { SimMeterOptionsInput } from '../../../sim/meter/options';
import { loneMeterSpec, type SimMeterSpec } from '../../../sim/types';
import { memoryTransportPair } from '../../helpers/memory-transport';
import { serveMeter } from '../../helpers/serve-meter';
import { FakeClock } from '../../../protocol/common/clock';
import { decodeFrame, type HdlcFrame } from '../../../protocol/hdlc/frame';
import type { HdlcParameters } from '../../../protocol/hdlc/params';

export const NOW = Date.UTC(2026, 10, 23, 12);

export const SPEC: SimMeterSpec = loneMeterSpec([{ client: 1, auth: 'low', password: '00000000' }]);

export interface Traffic {
  readonly dir: 'up' | 'down';
  readonly bytes: Uint8Array;
}

/** Decides whether an APDU is lost: `index` counts APDUs of that direction from 0. */
export type Loss = (dir: 'up' | 'down', apdu: Uint8Array, index: number) => boolean;

/** Decides whether a frame is lost on the wire: `index` counts frames of that direction from 0. */
export type FrameLoss = (dir: 'up' | 'down', frame: HdlcFrame, index: number) => boolean;

export interface GbtSetup {
  framing?: 'wrapper' | 'hdlc';
  meter?: SimMeterOptionsInput;
  client?: Partial<ClientOptionsInput>;
  loss?: Loss;
  /** The meter's HDLC limits (default 1024/1024/7/7). */
  hdlc?: Partial<HdlcParameters>;
  frameLoss?: FrameLoss;
}

export interface WireFrame {
  readonly dir: 'up' | 'down';
  readonly frame: HdlcFrame;
  readonly lost: boolean;
}

export function gbtSetup(s: GbtSetup = {}) {
  const framing = s.framing ?? 'wrapper';
  const clock = new FakeClock(NOW);
  const meter = createSimMeter(SPEC, { clock }, { profileDepthDays: 3, maxPduSize: 1024, ...s.meter });
  const traffic: Traffic[] = [];
  const counts = { up: 0, down: 0 };
  const lost = (dir: 'up' | 'down', apdu: Uint8Array): boolean => s.loss?.(dir, apdu, counts[dir]++) === true;
  const handleBurst = (apdu: Uint8Array, session: ServerSession): Uint8Array[] => {
    if (lost('up', apdu)) return [];
    traffic.push({ dir: 'up', bytes: apdu });
    const answers = meter.handler.handleBurst?.(apdu, session) ?? [];
    const out = answers.filter((a) => !lost('down', a));
    for (const a of out) traffic.push({ dir: 'down', bytes: a });
    return out;
  };
  const handler: ApduHandler = {
    handle: (apdu, session) => handleBurst(apdu, session)[0],
    release: (session) => {
      meter.handler.release(session);
    },
  };
  // Both framings carry several answers to one request (HDLC: I-frames within its window).
  const served: ApduHandler = { ...handler, handleBurst };
  const [clientEnd, meterEnd] = memoryTransportPair();
  void meterEnd.open();
  const wire: WireFrame[] = [];
  if (framing === 'hdlc') {
    const frameCounts = { up: 0, down: 0 };
    const tap = (dir: 'up' | 'down') => (bytes: Uint8Array): boolean => {
      const frame = decodeFrame(bytes);
      const lost = s.frameLoss?.(dir, frame, frameCounts[dir]++) === true;
      wire.push({ dir, frame, lost });
      return lost;
    };
    clientEnd.drop = tap('up');
    meterEnd.drop = tap('down');
  }
  const limits = { maxInfoTx: 1024, maxInfoRx: 1024, windowTx: 7, windowRx: 7, ...s.hdlc };
  serveMeter(meterEnd, served, { framing, address: { logical: 1, physical: 16, size: 2 }, limits });
  const client = new DlmsClient(clientEnd, {
    framing,
    clientAddress: 1,
    serverAddress: { logical: 1, physical: 16, size: 2 },
    authentication: { mechanism: 'low', password: new TextEncoder().encode('00000000') },
    responseTimeoutMs: 150,
    retries: 2,
    clock: systemClock,
    ...s.client,
  });
  return { client, meter, clock, traffic, wire };
}

/** Compact picture of HDLC frames: `C>I3P` client I-frame N(S) 3 with P, `M>RR` …; `x` lost. */
export function frameShape(w: readonly WireFrame[]): string[] {
  return w.map(({ dir, frame, lost }) => {
    const c = frame.control;
    const name = c.kind === 'I' ? `I${c.ns}` : c.kind;
    return `${dir === 'up' ? 'C>' : 'M>'}${lost ? 'x' : ''}${name}${c.pf ? 'P' : ''}${frame.segmented ? 'S' : ''}`;
  });
}

/** The wire cut into transmissions: runs of frames in one direction ending with the P/F bit. */
export function transmissions(w: readonly WireFrame[]): string[][] {
  const out: string[][] = [];
  let run: string[] = [];
  for (const f of frameShape(w)) {
    run.push(f);
    if (f.includes('P')) {
      out.push(run);
      run = [];
    }
  }
  if (run.length > 0) out.push(run);
  return out;
}

export function decoded(t: readonly Traffic[]): { dir: 'up' | 'down'; apdu: Apdu }[] {
  return t.map((x) => ({ dir: x.dir, apdu: decodeApdu(x.bytes) }));
}

/** The GBT APDUs of the recorded traffic, with their direction. */
export function gbts(t: readonly Traffic[]): { dir: 'up' | 'down'; g: GeneralBlockTransfer }[] {
  const out: { dir: 'up' | 'down'; g: GeneralBlockTransfer }[] = [];
  for (const x of decoded(t)) if (x.apdu.type === 'general-block-transfer') out.push({ dir: x.dir, g: x.apdu });
  return out;
}

/** Compact picture of GBT traffic: `d3s` = down, block 3, streaming; `u2a1` = up, empty, ack 1; `L` last. */
export function shape(t: readonly Traffic[]): string[] {
  return gbts(t).map(({ dir, g }) => {
    const d = dir === 'up' ? 'u' : 'd';
    if (g.data.length === 0) return `${d}a${g.blockNumberAck}w${g.window}`;
    return `${d}${g.blockNumber}${g.streaming ? 's' : ''}${g.lastBlock ? 'L' : ''}`;
  });
}

/** The load profile buffer and one day of it by range: what the GBT tests read. */
export const PROFILE = { classId: 7, obis: obis('1.0.99.1.0.255'), index: 2 };
const FROM = Date.UTC(2026, 10, 22);
export const DAY = encodeAccessSelector(rangeByTime(FROM, FROM + 95 * 900_000));
/** An image for the transfer tests. */
export const IMAGE = Uint8Array.from({ length: 5 * 1024 }, (_, i) => (i * 13) & 0xff);

/** Associates, reads the day, closes: the data, whether GBT was granted, and the set-up (traffic). */
export async function readDay(s: GbtSetup): Promise<{ data: Data; granted: boolean; setup: ReturnType<typeof gbtSetup> }> {
  const setup = gbtSetup(s);
  const negotiated = await setup.client.connect();
  const data = await setup.client.getValue(PROFILE, DAY);
  await setup.client.close();
  return { data, granted: negotiated.conformance.has('general-block-transfer'), setup };
}
