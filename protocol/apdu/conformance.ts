import { DcuError, ErrorCode } from '../common/errors';

/**
 * xDLMS Conformance block: a 24-bit BIT STRING, bit 0 = most significant bit of the first
 * byte. Modelled as a set of named bits so call sites read `conf.has('get')`.
 */
export const CONFORMANCE_BITS = [
  'reserved-zero',
  'general-protection',
  'general-block-transfer',
  'read',
  'write',
  'unconfirmed-write',
  'delta-value-encoding',
  'reserved-seven',
  'attribute0-supported-with-set',
  'priority-mgmt-supported',
  'attribute0-supported-with-get',
  'block-transfer-with-get-or-read',
  'block-transfer-with-set-or-write',
  'block-transfer-with-action',
  'multiple-references',
  'information-report',
  'data-notification',
  'access',
  'parameterized-access',
  'get',
  'set',
  'selective-access',
  'event-notification',
  'action',
] as const;

export type ConformanceBit = (typeof CONFORMANCE_BITS)[number];
export type Conformance = ReadonlySet<ConformanceBit>;

export function conformance(...bits: ConformanceBit[]): Conformance {
  return new Set(bits);
}

/** The 24-bit value (bit 0 = 0x800000). */
export function conformanceToNumber(c: Conformance): number {
  let v = 0;
  CONFORMANCE_BITS.forEach((name, i) => {
    if (c.has(name)) v |= 0x800000 >>> i;
  });
  return v;
}

export function conformanceFromNumber(v: number): Conformance {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffff) {
    throw new DcuError(ErrorCode.InvalidValue, `conformance 0x${v.toString(16)} is not a 24-bit value`);
  }
  return new Set(CONFORMANCE_BITS.filter((_, i) => (v & (0x800000 >>> i)) !== 0));
}

/** Bits both sides have: what a client may use after the AARE. */
export function conformanceIntersection(a: Conformance, b: Conformance): Conformance {
  return new Set([...a].filter((bit) => b.has(bit)));
}

/** Bits in canonical (wire) order, for logs and messages. */
export function conformanceNames(c: Conformance): ConformanceBit[] {
  return CONFORMANCE_BITS.filter((b) => c.has(b));
}
