import { decodeData, encodeData } from '../protocol/axdr/codec';
import type { Data } from '../protocol/axdr/data';
import { encodeDateTimeOctets, epochToDateTime } from '../protocol/axdr/datetime';
import { decodeApdu, encodeApdu } from '../protocol/apdu';
import { invokeIdAndPriority } from '../protocol/apdu/invoke';
import { CLOCK_CAPTURE_OBJECT, type CaptureObject } from '../protocol/cosem/capture-object';
import { obis } from '../protocol/cosem/obis';
import { decodeObjectList, encodeObjectList, type ObjectListEntry } from '../protocol/cosem/object-list';
import { decodeProfileBuffer } from '../protocol/cosem/profile';
import { encodeFrame, decodeFrame } from '../protocol/hdlc/frame';
import { HdlcSplitter } from '../protocol/hdlc/splitter';
import type { Bench, Figure } from './harness';
import { throughputMBps } from './harness';

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

export const protocolDecodeBench: Bench = {
  name: 'protocol-decode',
  run(): Figure[] {
    const figures: Figure[] = [];
    const { buffer, captureObjects } = loadProfileDay();
    const profileBytes = encodeData(buffer);
    figures.push({
      name: 'A-XDR decode, 1-day 15-min 4-channel profile buffer',
      value: throughputMBps(profileBytes.length, () => decodeData(profileBytes)),
      unit: 'MB/s',
      detail: { bytes: profileBytes.length, rows: DAY },
    });
    figures.push({
      name: 'profile rows (A-XDR + capture objects + timestamps)',
      value: throughputMBps(profileBytes.length, () => decodeProfileBuffer(decodeData(profileBytes), captureObjects, { capturePeriod: 900 })),
      unit: 'MB/s',
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
      value: throughputMBps(stream.length, () => {
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
      value: throughputMBps(view.length, () => decodeObjectList(decodeData(view))),
      unit: 'MB/s',
      detail: { bytes: view.length },
    });
    return figures;
  },
};
