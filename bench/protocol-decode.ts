import { decodeData, encodeData } from '../protocol/axdr/codec';
import type { Data } from '../protocol/axdr/data';
import { encodeDateTimeOctets, epochToDateTime } from '../protocol/axdr/datetime';
import { decodeApdu, encodeApdu } from '../protocol/apdu';
import { invokeIdAndPriority } from '../protocol/apdu/invoke';
import { captureKey, CLOCK_CAPTURE_OBJECT, type CaptureObject } from '../protocol/cosem/capture-object';
import { obis } from '../protocol/cosem/obis';
import { decodeObjectList, encodeObjectList, type ObjectListEntry } from '../protocol/cosem/object-list';
import { decodeProfileBuffer } from '../protocol/cosem/profile';
import { Unit, type ScalerUnit } from '../protocol/cosem/units';
import { encodeFrame, decodeFrame } from '../protocol/hdlc/frame';
import { HdlcSplitter } from '../protocol/hdlc/splitter';
import type { Bench, Figure } from './harness';
import { opsPerSecond } from './harness';

const DAY = 96;

/** A 1-day, 15-min load profile: clock, status and four energy channels (as meters send it). */
export function loadProfileDay(start = Date.UTC(2026, 10, 22)): { buffer: Data; captureObjects: CaptureObject[] } {
  const captureObjects: CaptureObject[] = [
    CLOCK_CAPTURE_OBJECT,
    { classId: 1, obis: obis('0.0.96.10.1.255'), attributeIndex: 2, dataIndex: 0 },
    ...['1.0.1.8.0.255', '1.0.2.8.0.255', '1.0.3.8.0.255', '1.0.4.8.0.255'].map((o) => ({ classId: 3, obis: obis(o), attributeIndex: 2, dataIndex: 0 })),
  ];
  const rows: Data[] = [];
  for (let i = 0; i < DAY; i++) {
    const t = start + i * 900_000;
    rows.push({
      type: 'structure',
      items: [
        { type: 'octet-string', value: encodeDateTimeOctets(epochToDateTime(t, { deviation: -60, hundredths: false })) },
        { type: 'uint8', value: 0 },
        { type: 'uint32', value: 1_000_000 + i * 250 },
        { type: 'uint32', value: 20_000 + i },
        { type: 'uint32', value: 300_000 + i * 40 },
        { type: 'uint32', value: 5_000 + i * 3 },
      ],
    });
  }
  return { buffer: { type: 'array', items: rows }, captureObjects };
}

export function associationView(n = 50): Data {
  const entries: ObjectListEntry[] = [];
  for (let i = 0; i < n; i++) {
    const classId = [1, 3, 7, 8, 15, 18, 64, 70][i % 8] ?? 1;
    const attrs = classId === 7 ? 8 : classId === 15 ? 9 : 3;
    entries.push({
      classId,
      version: 0,
      obis: [1, 0, i % 100, 8, 0, 255],
      attributeAccess: Array.from({ length: attrs }, (_, k) => ({ index: k + 1, mode: 1, selectors: null })),
      methodAccess: Array.from({ length: 2 }, (_, k) => ({ index: k + 1, mode: 0 })),
    });
  }
  return encodeObjectList(entries);
}

/** scaler_unit of the four energy channels, as a probe reads them before the buffer. */
export function loadProfileScalers(captureObjects: readonly CaptureObject[]): Map<string, ScalerUnit> {
  const scalers = new Map<string, ScalerUnit>();
  captureObjects
    .filter((co) => co.classId === 3)
    .forEach((co, i) => scalers.set(captureKey(co), i < 2 ? { scaler: 0, unit: Unit.Wh } : { scaler: -1, unit: Unit.varh }));
  return scalers;
}

/**
 * Best CPU time per call (ms) of each function, measured in interleaved rounds so that both
 * see the same machine. CPU time of this process rather than wall time: on a loaded box
 * (two cores shared by many processes) wall time mostly measures the other processes, while
 * the CPU time spent decoding barely moves. Best-of-rounds: interference only slows a round.
 */
function interleavedBestMs(fns: readonly (() => void)[], rounds = 7, roundMs = 250): number[] {
  const best = fns.map(() => Infinity);
  for (const fn of fns) opsPerSecond(fn, 200); // warm-up: every path optimised before timing
  for (let round = 0; round < rounds; round++) {
    fns.forEach((fn, i) => {
      const wallEnd = performance.now() + roundMs;
      const cpu = process.cpuUsage();
      let calls = 0;
      while (performance.now() < wallEnd) {
        for (let k = 0; k < 10; k++) fn();
        calls += 10;
      }
      const used = process.cpuUsage(cpu);
      best[i] = Math.min(best[i] ?? Infinity, (used.user + used.system) / 1000 / calls);
    });
  }
  return best;
}

const msToUs = (ms: number): number => ms * 1000;

/** MB/s of CPU time (see interleavedBestMs). */
function cpuMBps(bytesPerCall: number, fn: () => void): number {
  const [ms = NaN] = interleavedBestMs([fn], 3, 300);
  return bytesPerCall / msToUs(ms);
}

/** Goal of issue 7 item 4: rows cost at most this many bare A-XDR decodes of the same bytes. */
export const PROFILE_ROWS_RATIO_GOAL = 3;

export const protocolDecodeBench: Bench = {
  name: 'protocol-decode',
  run(): Figure[] {
    const figures: Figure[] = [];
    const { buffer, captureObjects } = loadProfileDay();
    const scalers = loadProfileScalers(captureObjects);
    const profileBytes = encodeData(buffer);
    const [bareMs = NaN, rowsMs = NaN] = interleavedBestMs([
      () => decodeData(profileBytes),
      () => decodeProfileBuffer(decodeData(profileBytes), captureObjects, { capturePeriod: 900, scalers }),
    ]);
    figures.push({
      name: 'A-XDR decode, 1-day 15-min 4-channel profile buffer',
      value: profileBytes.length / msToUs(bareMs),
      unit: 'MB/s',
      detail: { bytes: profileBytes.length, rows: DAY, usPerBuffer: msToUs(bareMs), clock: 'process CPU time, best of 7 interleaved rounds' },
    });
    figures.push({
      name: 'profile rows (A-XDR + capture objects + timestamps + scaler_unit)',
      value: profileBytes.length / msToUs(rowsMs),
      unit: 'MB/s',
      detail: { usPerBuffer: msToUs(rowsMs) },
    });
    figures.push({ name: 'time per buffer: bare A-XDR decode', value: msToUs(bareMs), unit: 'µs' });
    figures.push({ name: 'time per buffer: profile rows', value: msToUs(rowsMs), unit: 'µs' });
    figures.push({
      name: 'profile rows time ÷ bare A-XDR decode time (same run)',
      value: rowsMs / bareMs,
      unit: '×',
      goal: `≤ ${PROFILE_ROWS_RATIO_GOAL}`,
      detail: { bareUs: msToUs(bareMs), rowsUs: msToUs(rowsMs), met: rowsMs / bareMs <= PROFILE_ROWS_RATIO_GOAL },
    });
    // The same buffer as it arrives: a GET response APDU, in 128-byte HDLC I-frames.
    const apdu = encodeApdu({ type: 'get-response', kind: 'normal', invoke: invokeIdAndPriority(1), result: { kind: 'data', data: buffer } });
    const frames: Uint8Array[] = [];
    for (let at = 0, ns = 0; at < apdu.length; at += 128, ns = (ns + 1) & 7) {
      frames.push(
        encodeFrame({
          dest: { logical: 16, size: 1 },
          src: { logical: 1, physical: 17, size: 2 },
          control: { kind: 'I', ns, nr: 0, pf: true },
          segmented: at + 128 < apdu.length,
          info: apdu.subarray(at, at + 128),
        }),
      );
    }
    const stream = Buffer.concat(frames);
    figures.push({
      name: 'HDLC split + frame decode + APDU decode (128-byte frames)',
      value: cpuMBps(stream.length, () => {
        const s = new HdlcSplitter();
        const infos: Uint8Array[] = [];
        for (const ev of s.push(stream)) if (ev.type === 'frame') infos.push(decodeFrame(ev.raw).info);
        decodeApdu(Buffer.concat(infos));
      }),
      unit: 'MB/s',
      detail: { bytes: stream.length, frames: frames.length },
    });
    const view = encodeData(associationView(50));
    figures.push({
      name: 'association view, 50 objects (A-XDR + object list)',
      value: cpuMBps(view.length, () => decodeObjectList(decodeData(view))),
      unit: 'MB/s',
      detail: { bytes: view.length },
    });
    return figures;
  },
};
