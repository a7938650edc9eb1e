/**
 * Test-only extraction of GET responses from the hex traces in test/vectors: the meter's
 * APDUs (from the one trace loader), GET-response-with-datablock raw-data reassembled by
 * hand, independent of protocol/apdu so the COSEM tests stand alone.
 */
import { DcuError } from '../../../protocol/common/errors';
import { concatBytes } from '../../../protocol/common/hex';
import { vectorApdus } from '../../helpers/vector-apdus';

/** The APDUs (LLC removed) the meter sent, in order. */
export function rxApdus(file: string): Uint8Array[] {
  return vectorApdus(file)
    .filter((a) => a.dir === 'RX')
    .map((a) => a.apdu);
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
