import fc from 'fast-check';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { decodeData, encodeData } from '../../../protocol/axdr/codec';
import { enumValue, int16, int8, structure, uint8 } from '../../../protocol/axdr/data';
import { applyScaler, decodeScalerUnit, encodeScalerUnit, formatScaled, scaledDecimal, Unit, unitInfo, unitSymbol } from '../../../protocol/cosem/units';
import { fromHex, toHex } from '../../../protocol/common/hex';

describe('unit table', () => {
  it.each([
    [1, 'a'],
    [2, 'mo'],
    [7, 's'],
    [27, 'W'],
    [28, 'VA'],
    [29, 'var'],
    [30, 'Wh'],
    [31, 'VAh'],
    [32, 'varh'],
    [33, 'A'],
    [35, 'V'],
    [44, 'Hz'],
    [56, '%'],
    [254, 'other'],
    [255, ''],
  ])('%i → %p', (code, symbol) => {
    expect(unitSymbol(code)).toBe(symbol);
  });

  it('names unknown codes instead of failing', () => {
    expect(unitSymbol(199)).toBe('unit(199)');
    expect(unitInfo(199)).toBeUndefined();
    expect(unitInfo(Unit.Wh)?.quantity).toBe('active energy');
  });
});

describe('scaler_unit', () => {
  it('decodes the wire form {int8 -3, enum Wh}', () => {
    const d = decodeData(fromHex('02020FFD161E'));
    expect(decodeScalerUnit(d)).toEqual({ scaler: -3, unit: 30 });
    expect(toHex(encodeData(encodeScalerUnit({ scaler: -3, unit: 30 })))).toBe('02020FFD161E');
  });

  it('accepts an unsigned scaler byte as signed (seen in the field)', () => {
    expect(decodeScalerUnit(structure(uint8(0xfe), enumValue(35)))).toEqual({ scaler: -2, unit: 35 });
  });

  it('rejects other shapes with DecodeBadValue', () => {
    for (const d of [int8(1), structure(int8(1)), structure(enumValue(1), enumValue(30)), structure(int8(1), int8(30)), structure(int16(32767), enumValue(30))]) {
      let code: number | undefined;
      try {
        decodeScalerUnit(d);
      } catch (e) {
        code = (e as DcuError).code;
      }
      expect(code).toBe(ErrorCode.DecodeBadValue);
    }
  });
});

describe('applyScaler', () => {
  it('is exact where float multiplication drifts', () => {
    expect(7 * 10 ** -1).not.toBe(0.7); // 0.7000000000000001 — the drift this avoids
    expect(applyScaler(7, -1)).toBe(0.7);
    expect(applyScaler(3, -1)).toBe(0.3);
    expect(applyScaler(12345, -3)).toBe(12.345);
    expect(scaledDecimal(12345, -3)).toBe('12.345');
    expect(scaledDecimal(5, -3)).toBe('0.005');
    expect(scaledDecimal(-5, -1)).toBe('-0.5');
    expect(scaledDecimal(1200, -2)).toBe('12');
    expect(scaledDecimal(12, 3)).toBe('12000');
    expect(scaledDecimal(0, 3)).toBe('0');
    expect(scaledDecimal(0, -3)).toBe('0');
    expect(scaledDecimal(18446744073709551615n, -3)).toBe('18446744073709551.615');
    expect(applyScaler(2.5, 1)).toBe(25);
  });

  it('equals the decimal literal for every integer and scaler', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2_000_000_000, max: 4_000_000_000 }), fc.integer({ min: -9, max: 6 }), (v, s) => {
        const text = scaledDecimal(v, s);
        expect(applyScaler(v, s)).toBe(Number(text));
        // exactness: shifting the decimal point back gives the integer
        if (s >= 0) {
          expect(text).toBe((BigInt(v) * 10n ** BigInt(s)).toString());
        } else {
          const [intPart = '', frac = ''] = text.replace('-', '').split('.');
          const back = BigInt(intPart + frac.padEnd(-s, '0')) * (v < 0 ? -1n : 1n);
          expect(back).toBe(BigInt(v));
        }
      }),
    );
  });

  it('formats value with symbol', () => {
    expect(formatScaled(12345, { scaler: -3, unit: Unit.Wh })).toBe('12.345 Wh');
    expect(formatScaled(7, { scaler: 0, unit: Unit.count })).toBe('7');
  });

  // Profile rows scale every cell: numbers take a BigInt-free path and a one-operation
  // product/quotient. Both must give what the exact BigInt decimal gives.
  const reference = (v: bigint, s: number): string => {
    if (s >= 0) return (v * 10n ** BigInt(s)).toString();
    const p = 10n ** BigInt(-s);
    const a = v < 0n ? -v : v;
    const frac = (a % p).toString().padStart(-s, '0').replace(/0+$/, '');
    const text = frac === '' ? (a / p).toString() : `${a / p}.${frac}`;
    return v < 0n && text !== '0' ? `-${text}` : text;
  };

  it('fast paths agree with the exact BigInt decimal over the whole safe range', () => {
    const safe = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(0, -0, 1, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER));
    fc.assert(
      fc.property(safe, fc.integer({ min: -30, max: 30 }), (v, s) => {
        const text = scaledDecimal(v, s);
        expect(text).toBe(reference(BigInt(v), s));
        expect(scaledDecimal(BigInt(v), s)).toBe(text);
        expect(Object.is(applyScaler(v, s), Number(text))).toBe(true);
        expect(Object.is(applyScaler(BigInt(v), s), Number(text))).toBe(true);
        expect(Object.is(applyScaler(v, s, text), Number(text))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('64-bit values beyond 2^53 and floats keep the decimal-text path', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.integer({ min: -12, max: 12 }), (v, s) => {
        const text = scaledDecimal(v, s);
        expect(text).toBe(reference(v, s));
        expect(applyScaler(v, s)).toBe(Number(text));
      }),
    );
    fc.assert(
      fc.property(fc.double(), fc.integer({ min: -6, max: 6 }), (v, s) => {
        expect(Object.is(applyScaler(v, s), Number(scaledDecimal(v, s)))).toBe(true);
      }),
    );
  });
});
