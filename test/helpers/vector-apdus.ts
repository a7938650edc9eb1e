/**
 * Reassembled APDUs of the HDLC traces in test/vectors: I/UI frames only, segments (S bit) of one
 * direction concatenated, LLC header (E6 E6 00 client → meter, E6 E7 00 meter → client)
 * stripped. Frames without an information field (RR, SNRM, DISC) and the SNRM/UA parameter
 * fields are skipped.
 */
import { decodeFrame } from '../../protocol/hdlc/frame';
import { concatBytes, toHex } from '../../protocol/common/hex';
import type { ConformanceBit } from '../../protocol/apdu/conformance';
import { type VectorDirection, listVectorFiles, loadVectors } from './vectors';

/** Conformance the reference client proposes in the traces (5F 1F 04 00 40 1E 1D). */
export const TRACE_CLIENT_CONFORMANCE: readonly ConformanceBit[] = [
  'general-protection',
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'block-transfer-with-action',
  'multiple-references',
  'get',
  'set',
  'selective-access',
  'action',
];

export interface VectorApdu {
  /** TX = client → meter, RX = meter → client. */
  readonly dir: VectorDirection;
  readonly apdu: Uint8Array;
  /** Line of the last frame of the APDU in the log. */
  readonly lineNo: number;
}

export const VECTOR_LOGS = {
  none: 'ln-hdlc-none-clock.log',
  lls: 'ln-hdlc-lls-clock-profile.log',
  hls: 'ln-hdlc-hlsgmac-suite0-clock.log',
} as const;

const LLC: Readonly<Record<VectorDirection, readonly number[]>> = { TX: [0xe6, 0xe6, 0x00], RX: [0xe6, 0xe7, 0x00] };

export function vectorApdus(name: string): VectorApdu[] {
  const out: VectorApdu[] = [];
  const pending: Record<VectorDirection, Uint8Array[]> = { TX: [], RX: [] };
  for (const rec of loadVectors(name)) {
    const frame = decodeFrame(rec.bytes);
    if (frame.info.length === 0 || (frame.control.kind !== 'I' && frame.control.kind !== 'UI')) continue;
    pending[rec.dir].push(frame.info);
    if (frame.segmented) continue;
    const whole = concatBytes(pending[rec.dir]);
    pending[rec.dir] = [];
    const llc = LLC[rec.dir];
    if (!llc.every((b, i) => whole[i] === b)) {
      throw new Error(`${name}:${rec.lineNo}: ${rec.dir} APDU without LLC header: ${toHex(whole.subarray(0, 8), ' ')}`);
    }
    out.push({ dir: rec.dir, apdu: whole.slice(llc.length), lineNo: rec.lineNo });
  }
  return out;
}

/** Every log file's APDUs, keyed by file name. */
export function allVectorApdus(): Record<string, VectorApdu[]> {
  return Object.fromEntries(listVectorFiles().map((f) => [f, vectorApdus(f)]));
}
