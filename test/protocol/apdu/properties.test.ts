import fc from 'fast-check';
import { decodeApdu, encodeApdu } from '../../../protocol/apdu';
import { isDcuError } from '../../../protocol/common/errors';
import { APDU_FAMILIES, arbApdu } from '../../helpers/apdu-arbitraries';
import { vectorApdus, VECTOR_LOGS } from '../../helpers/vector-apdus';

/** Decoding arbitrary bytes must end in a value or a DcuError — never another exception. */
function decodesOrDcuError(bytes: Uint8Array): boolean {
  try {
    decodeApdu(bytes);
    return true;
  } catch (e) {
    if (isDcuError(e)) return true;
    throw e;
  }
}

/** Paths of properties present with the value undefined (exactOptionalPropertyTypes forbids them). */
function undefinedKeys(v: unknown, path = '$'): string[] {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return [];
  if (v instanceof Set) return [];
  return Object.entries(v).flatMap(([k, x]) => (x === undefined ? [`${path}.${k}`] : undefinedKeys(x, `${path}.${k}`)));
}

describe('APDU round trip: decode(encode(x)) = x', () => {
  it.each(Object.entries(APDU_FAMILIES))('%s', (_name, arb) => {
    fc.assert(
      fc.property(arb, (apdu) => {
        const bytes = encodeApdu(apdu);
        const decoded = decodeApdu(bytes);
        expect(decoded).toEqual(apdu);
        expect(undefinedKeys(decoded)).toEqual([]);
        // And the encoding is canonical: re-encoding gives the same bytes.
        expect(encodeApdu(decodeApdu(bytes))).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });
});

describe('APDU decoder robustness', () => {
  const TAGS = [0x60, 0x61, 0x62, 0x63, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc7, 0xd8, 0x0e, 0x0f, 0xe0, 0xdb, 0xcb];

  it('random bytes end only in a value or a DcuError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), decodesOrDcuError), { numRuns: 3000 });
  });

  it('random bodies after every known tag end only in a value or a DcuError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TAGS), fc.uint8Array({ maxLength: 120 }), (tag, body) => decodesOrDcuError(Uint8Array.of(tag, ...body))),
      { numRuns: 3000 },
    );
  });

  it('mutated valid APDUs (flip, truncate, insert) end only in a value or a DcuError', () => {
    const mutate = fc.tuple(arbApdu, fc.nat(), fc.nat({ max: 255 }), fc.constantFrom('flip', 'truncate', 'insert', 'delete'));
    fc.assert(
      fc.property(mutate, ([apdu, pos, byte, how]) => {
        const b = encodeApdu(apdu);
        const at = b.length === 0 ? 0 : pos % b.length;
        let m: Uint8Array;
        if (how === 'flip') {
          m = b.slice();
          m[at] = byte;
        } else if (how === 'truncate') m = b.subarray(0, at);
        else if (how === 'insert') m = Uint8Array.of(...b.subarray(0, at), byte, ...b.subarray(at));
        else m = Uint8Array.of(...b.subarray(0, at), ...b.subarray(at + 1));
        return decodesOrDcuError(m);
      }),
      { numRuns: 3000 },
    );
  });

  it('every truncation of every trace APDU fails with a DcuError', () => {
    for (const file of [VECTOR_LOGS.none, VECTOR_LOGS.lls]) {
      for (const { apdu } of vectorApdus(file)) {
        for (let n = 0; n < apdu.length; n += apdu.length > 64 ? 7 : 1) {
          let err: unknown;
          try {
            decodeApdu(apdu.subarray(0, n));
          } catch (e) {
            err = e;
          }
          expect(isDcuError(err)).toBe(true);
        }
      }
    }
  });
});
