import { DcuError, ErrorCode } from '../common/errors';

/**
 * HDLC control field (IEC 62056-46 §6.4.3), modulo 8. The P/F bit (0x10) is "poll" in
 * commands from the client and "final" in responses from the meter.
 */
export type HdlcControl =
  | { readonly kind: 'I'; readonly ns: number; readonly nr: number; readonly pf: boolean }
  | { readonly kind: 'RR'; readonly nr: number; readonly pf: boolean }
  | { readonly kind: 'RNR'; readonly nr: number; readonly pf: boolean }
  | { readonly kind: UnnumberedKind; readonly pf: boolean };

export type UnnumberedKind = 'SNRM' | 'UA' | 'DISC' | 'DM' | 'FRMR' | 'UI';

const PF = 0x10;

/** Unnumbered control bytes without the P/F bit. */
const UNNUMBERED: Readonly<Record<UnnumberedKind, number>> = {
  SNRM: 0x83,
  UA: 0x63,
  DISC: 0x43,
  DM: 0x0f,
  FRMR: 0x87,
  UI: 0x03,
};

const BY_BYTE = new Map<number, UnnumberedKind>(
  (Object.keys(UNNUMBERED) as UnnumberedKind[]).map((k) => [UNNUMBERED[k], k]),
);

function seq(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 7) {
    throw new DcuError(ErrorCode.EncodeInvalid, `HDLC ${what} must be 0..7, got ${v}`, { context: { what, value: v } });
  }
  return v;
}

export function encodeControl(c: HdlcControl): number {
  const pf = c.pf ? PF : 0;
  switch (c.kind) {
    case 'I':
      return (seq(c.nr, 'N(R)') << 5) | pf | (seq(c.ns, 'N(S)') << 1);
    case 'RR':
      return (seq(c.nr, 'N(R)') << 5) | pf | 0x01;
    case 'RNR':
      return (seq(c.nr, 'N(R)') << 5) | pf | 0x05;
    default:
      return UNNUMBERED[c.kind] | pf;
  }
}

/** Decodes a control byte; `offset` is only used in the error message. */
export function decodeControl(byte: number, offset = 0): HdlcControl {
  const pf = (byte & PF) !== 0;
  if ((byte & 0x01) === 0) return { kind: 'I', ns: (byte >>> 1) & 7, nr: byte >>> 5, pf };
  if ((byte & 0x0f) === 0x01) return { kind: 'RR', nr: byte >>> 5, pf };
  if ((byte & 0x0f) === 0x05) return { kind: 'RNR', nr: byte >>> 5, pf };
  const kind = BY_BYTE.get(byte & ~PF & 0xff);
  if (kind === undefined) {
    throw new DcuError(
      ErrorCode.FramingBadFormat,
      `unsupported HDLC control byte 0x${byte.toString(16).padStart(2, '0')} at byte ${offset} (expected I, RR, RNR, SNRM, UA, DISC, DM, FRMR or UI)`,
      { context: { offset, control: byte } },
    );
  }
  return { kind, pf };
}
