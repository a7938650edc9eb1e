/**
 * OBIS codes (IEC 62056-6-1): six value groups A..F, each 0..255, travelling as a 6-byte
 * octet-string. Text forms accepted by parseObis:
 *
 *   1.0.99.1.0.255      dotted, six groups (the form DLMS tools print)
 *   1-0:99.1.0*255      IEC 62056-6-1 display form
 *   1-0:99.1.0.255      the same with a dot before F (common in configs)
 *   1-0:1.8.0           F omitted → 255 ("not used"), as in IEC 62056-21 read-outs
 *   0100630100FF        twelve hex digits (the raw octet-string)
 */
import { DcuError, ErrorCode } from '../common/errors';
import { toHex } from '../common/hex';
import type { Data } from '../axdr/data';

export type Obis = readonly [a: number, b: number, c: number, d: number, e: number, f: number];

export const OBIS_FORMS_HELP =
  'use A.B.C.D.E.F (1.0.99.1.0.255), A-B:C.D.E*F (1-0:99.1.0*255), A-B:C.D.E (F = 255) or 12 hex digits (0100630100FF)';

function malformed(text: string, why: string): DcuError {
  return new DcuError(ErrorCode.UnknownObis, `not an OBIS code: '${text}' (${why}); ${OBIS_FORMS_HELP}`, {
    context: { text: text.slice(0, 64) },
  });
}

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IEC = /^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:[*.](\d{1,3}))?$/;
const HEX = /^[0-9a-fA-F]{12}$/;

export function parseObis(text: string): Obis {
  const t = text.trim();
  if (HEX.test(t)) {
    const b: number[] = [];
    for (let i = 0; i < 12; i += 2) b.push(parseInt(t.slice(i, i + 2), 16));
    return toObis(b, text);
  }
  const m = DOTTED.exec(t) ?? IEC.exec(t);
  if (m === null) return failShape(text);
  // F is optional in the IEC form: absent = 255 ("not used").
  const groups = [m[1], m[2], m[3], m[4], m[5], m[6]].map((g) => (g === undefined ? 255 : Number(g)));
  return toObis(groups, text);
}

function failShape(text: string): never {
  throw malformed(text, text.trim() === '' ? 'empty' : 'unrecognised form');
}

function toObis(groups: number[], text: string): Obis {
  const [a, b, c, d, e, f] = groups;
  if (a === undefined || b === undefined || c === undefined || d === undefined || e === undefined || f === undefined) {
    throw malformed(text, 'six value groups are needed');
  }
  const letters = 'ABCDEF';
  groups.forEach((g, i) => {
    if (!Number.isInteger(g) || g < 0 || g > 255) throw malformed(text, `group ${letters[i] ?? '?'} = ${g} is not 0..255`);
  });
  return [a, b, c, d, e, f];
}

/** True for a syntactically valid OBIS text (see parseObis). */
export function isObisText(text: string): boolean {
  try {
    parseObis(text);
    return true;
  } catch {
    return false;
  }
}

export type ObisStyle = 'dotted' | 'iec';

/** 'dotted' → 1.0.99.1.0.255; 'iec' → 1-0:99.1.0*255. */
export function formatObis(o: Obis, style: ObisStyle = 'dotted'): string {
  const [a, b, c, d, e, f] = o;
  return style === 'iec' ? `${a}-${b}:${c}.${d}.${e}*${f}` : `${a}.${b}.${c}.${d}.${e}.${f}`;
}

export function obisToBytes(o: Obis): Uint8Array {
  return Uint8Array.from(o);
}

/** Six bytes at `offset` (default: exactly six bytes). */
export function obisFromBytes(bytes: Uint8Array, offset = 0): Obis {
  if (offset === 0 && bytes.length !== 6) {
    throw new DcuError(ErrorCode.DecodeBadLength, `an OBIS code is 6 bytes, got ${bytes.length} (${toHex(bytes.subarray(0, 16))})`, {
      context: { length: bytes.length },
    });
  }
  if (offset + 6 > bytes.length) {
    throw new DcuError(ErrorCode.DecodeTruncated, `truncated: need 6 bytes for an OBIS code at byte ${offset}`, { context: { offset } });
  }
  const s = bytes.subarray(offset, offset + 6);
  return [s[0] ?? 0, s[1] ?? 0, s[2] ?? 0, s[3] ?? 0, s[4] ?? 0, s[5] ?? 0];
}

export function obisToData(o: Obis): Data {
  return { type: 'octet-string', value: obisToBytes(o) };
}

/** An OBIS from an octet-string(6) Data; anything else is a DecodeBadValue naming `what`. */
export function obisFromData(d: Data, what = 'logical name'): Obis {
  if (d.type !== 'octet-string' || d.value.length !== 6) {
    const got = d.type === 'octet-string' ? `octet-string(${d.value.length})` : d.type;
    throw new DcuError(ErrorCode.DecodeBadValue, `${what}: expected octet-string(6), got ${got}`, { context: { what } });
  }
  return obisFromBytes(d.value);
}

export function obisEquals(x: Obis, y: Obis): boolean {
  return x.every((v, i) => v === y[i]);
}

/** Canonical map key (dotted text). */
export const obisKey = (o: Obis): string => formatObis(o, 'dotted');

/** Convenience: parse a literal once at module load (throws on a typo). */
export const obis = (text: string): Obis => parseObis(text);
