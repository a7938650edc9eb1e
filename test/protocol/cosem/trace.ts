/**
 * Test-only extraction of GET responses from the hex traces in ../shared/vectors: splits the
 * RX HDLC frames (no FCS check; the HDLC tests do that), joins segmented I-frames, strips the
 * LLC header and reassembles GET-response-with-datablock raw-data. Deliberately small and
 * independent of protocol/hdlc and protocol/apdu so the COSEM tests stand alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DcuError } from '../../../protocol/common/errors';
import { concatBytes, fromHex } from '../../../protocol/common/hex';

export const VECTORS = join(__dirname, '..', '..', '..', '..', 'shared', 'vectors');

function addressLength(b: Uint8Array, at: number): number {
  let n = 0;
  while (at + n < b.length && ((b[at + n] ?? 1) & 1) === 0) n++;
  return n + 1;
}

/** The APDUs (LLC removed) the meter sent, in order. */
export function rxApdus(file: string): Uint8Array[] {
  const text = readFileSync(join(VECTORS, file), 'utf8');
  const apdus: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  for (const line of text.split('\n')) {
    const m = /^RX:\s+(.*)$/.exec(line.trim());
    if (m?.[1] === undefined) continue;
    const f = fromHex(m[1]);
    const format = ((f[1] ?? 0) << 8) | (f[2] ?? 0);
    const length = format & 0x7ff;
    const segmented = (format & 0x0800) !== 0;
    if (f.length !== length + 2) throw new Error(`frame length ${f.length} vs format ${length}`);
    const dest = addressLength(f, 3);
    const src = addressLength(f, 3 + dest);
    const control = f[3 + dest + src] ?? 0;
    if ((control & 1) !== 0) continue; // not an I-frame (UA, RR, …)
    const infoStart = 3 + dest + src + 1 + 2;
    parts.push(f.subarray(infoStart, length + 1 - 2));
    if (!segmented) {
      const apdu = concatBytes(parts);
      parts = [];
      // LLC E6 E7 00 at the start of each APDU
      apdus.push(apdu[0] === 0xe6 && apdu[1] === 0xe7 ? apdu.subarray(3) : apdu);
    }
  }
  return apdus;
}

function readLength(b: Uint8Array, at: number): [number, number] {
  const first = b[at] ?? 0;
  if (first < 0x80) return [first, at + 1];
  let v = 0;
  const n = first & 0x7f;
  for (let i = 1; i <= n; i++) v = v * 256 + (b[at + i] ?? 0);
  return [v, at + 1 + n];
}

/** Data bytes of every successful GET response (normal, or reassembled from blocks). */
export function getResponseData(file: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let blocks: Uint8Array[] = [];
  for (const a of rxApdus(file)) {
    if (a[0] !== 0xc4) continue;
    if (a[1] === 0x01 && a[3] === 0x00) out.push(a.subarray(4));
    if (a[1] === 0x02 && a[8] === 0x00) {
      const last = a[3] !== 0;
      const [len, at] = readLength(a, 9);
      blocks.push(a.subarray(at, at + len));
      if (last) {
        out.push(concatBytes(blocks));
        blocks = [];
      }
    }
  }
  return out;
}

/** The DcuError code `f` throws (-1 for any other exception), or undefined when it returns. */
export function codeOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof DcuError ? e.code : -1;
  }
  return undefined;
}
