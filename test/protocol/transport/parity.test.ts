import fc from 'fast-check';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { addParity, stripParity } from '../../../protocol/transport/parity';

describe('software 7-bit parity', () => {
  it('sets bit 7 to even parity', () => {
    // '/' 0x2F has 5 ones -> parity 1; '?' 0x3F has 6 -> 0; '!' 0x21 has 2 -> 0; CR 0x0D 3 -> 1; LF 0x0A 2 -> 0
    expect(toHex(addParity(fromHex('2F3F210D0A'), 'even'))).toBe('AF3F218D0A');
  });

  it('sets bit 7 to odd parity', () => {
    expect(toHex(addParity(fromHex('2F3F'), 'odd'))).toBe('2FBF');
  });

  it('ignores bit 7 of the input when adding', () => {
    expect(toHex(addParity(fromHex('AF'), 'even'))).toBe('AF');
  });

  it('strips parity and drops characters with a wrong parity bit', () => {
    const r = stripParity(fromHex('AF2F3F'), 'even');
    expect(toHex(r.bytes)).toBe('2F3F');
    expect(r.errors).toBe(1);
  });

  it('round-trips any 7-bit text (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.constantFrom('even' as const, 'odd' as const), (raw, p) => {
        const seven = raw.map((b) => b & 0x7f);
        const back = stripParity(addParity(seven, p), p);
        expect(back.errors).toBe(0);
        expect(toHex(back.bytes)).toBe(toHex(seven));
      }),
    );
  });
});
