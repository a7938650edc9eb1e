import fc from 'fast-check';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { formatObis, obisEquals, obisFromBytes, obisFromData, obisToBytes, obisToData, parseObis } from '../../../protocol/cosem/obis';
import type { Obis } from '../../../protocol/cosem/obis';
import { obisName, wellKnownObis } from '../../../protocol/cosem/obis-names';
import { codeOf } from './trace';

const arbObis: fc.Arbitrary<Obis> = fc
  .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
  .map(([a, b, c, d, e, f]) => [a, b, c, d, e, f] as const);

describe('parseObis', () => {
  it.each([
    ['1.0.99.1.0.255', [1, 0, 99, 1, 0, 255]],
    ['1-0:99.1.0*255', [1, 0, 99, 1, 0, 255]],
    ['1-0:99.1.0.255', [1, 0, 99, 1, 0, 255]],
    ['1-0:1.8.0', [1, 0, 1, 8, 0, 255]],
    ['  0.0.1.0.0.255 ', [0, 0, 1, 0, 0, 255]],
    ['0100630100FF', [1, 0, 99, 1, 0, 255]],
    ['0-0:96.3.10*255', [0, 0, 96, 3, 10, 255]],
  ])('%s', (text, expected) => {
    expect(parseObis(text)).toEqual(expected);
  });

  it.each(['', '1.0.99.1.0', '1.0.99.1.0.256', '1-0:1.8', '1.0.1.8.0.255.1', 'a.b.c.d.e.f', '1-0:1.8.0*', '1,0,1,8,0,255', '1.0.1.8.0.-1', '0100630100F'])(
    'rejects %p with UnknownObis and shows the accepted forms',
    (text) => {
      let err: unknown;
      try {
        parseObis(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DcuError);
      expect((err as DcuError).code).toBe(ErrorCode.UnknownObis);
      expect((err as DcuError).message).toContain('A-B:C.D.E*F');
      expect((err as DcuError).message).toContain('A.B.C.D.E.F');
    },
  );

  it('names the out-of-range group', () => {
    expect(() => parseObis('1.0.300.1.0.255')).toThrow(/group C = 300/);
  });
});

describe('formatObis / bytes', () => {
  it('formats both styles', () => {
    const o = parseObis('1.0.1.8.0.255');
    expect(formatObis(o)).toBe('1.0.1.8.0.255');
    expect(formatObis(o, 'iec')).toBe('1-0:1.8.0*255');
  });

  it('round-trips text (both styles) and bytes for every code', () => {
    fc.assert(
      fc.property(arbObis, (o) => {
        expect(parseObis(formatObis(o))).toEqual(o);
        expect(parseObis(formatObis(o, 'iec'))).toEqual(o);
        expect(obisFromBytes(obisToBytes(o))).toEqual(o);
        expect(obisFromData(obisToData(o))).toEqual(o);
        expect(obisEquals(parseObis(formatObis(o, 'iec')), o)).toBe(true);
      }),
    );
  });

  it('random text only ever fails with UnknownObis', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24 }), (s) => {
        const code = codeOf(() => parseObis(s));
        expect(code === undefined || code === ErrorCode.UnknownObis).toBe(true);
      }),
    );
  });

  it('rejects octet-strings that are not 6 bytes', () => {
    expect(codeOf(() => obisFromBytes(Uint8Array.of(1, 0, 1)))).toBe(ErrorCode.DecodeBadLength);
    expect(codeOf(() => obisFromBytes(Uint8Array.of(1, 0, 1, 8, 0, 255, 9), 3))).toBe(ErrorCode.DecodeTruncated);
    expect(codeOf(() => obisFromData({ type: 'uint16', value: 3 }))).toBe(ErrorCode.DecodeBadValue);
    expect(obisFromBytes(Uint8Array.of(9, 1, 0, 1, 8, 0, 255), 1)).toEqual([1, 0, 1, 8, 0, 255]);
  });
});

describe('obisName', () => {
  it.each([
    ['0.0.1.0.0.255', 'clock'],
    ['0.0.42.0.0.255', 'logical device name'],
    ['1.0.0.2.0.255', 'active firmware identifier'],
    ['1.0.1.8.0.255', '+A active energy import'],
    ['1.0.2.8.0.255', '-A active energy export'],
    ['1.0.3.8.0.255', '+R reactive energy import'],
    ['1.0.4.8.0.255', '-R reactive energy export'],
    ['1.0.1.8.2.255', '+A active energy import, tariff 2'],
    ['1.0.99.1.0.255', 'load profile'],
    ['1.0.99.2.0.255', 'daily profile'],
    ['0.0.98.1.0.255', 'billing profile'],
    ['0.0.99.98.0.255', 'standard event log'],
    ['0.0.99.97.0.255', 'power failure event log'],
    ['0.0.97.98.0.255', 'alarm register'],
    ['0.0.44.0.0.255', 'image transfer'],
    ['0.0.96.3.10.255', 'disconnect control'],
    ['0.0.43.0.3.255', 'security setup #3'],
    ['0.0.43.1.1.255', 'invocation counter #1'],
    ['0.0.40.0.0.255', 'current association'],
    ['0.0.40.0.2.255', 'association LN #2'],
    ['1.0.32.7.0.255', 'instantaneous voltage L1'],
    ['1.0.31.7.0.255', 'instantaneous current L1'],
    ['1.0.1.7.0.255', '+P instantaneous active power import'],
  ])('%s → %s', (text, name) => {
    expect(obisName(parseObis(text))).toBe(name);
  });

  it('is undefined for codes it does not know', () => {
    expect(obisName(parseObis('7.0.3.0.0.255'))).toBeUndefined();
  });

  it('lists exact entries with parseable codes', () => {
    const list = wellKnownObis();
    expect(list.length).toBeGreaterThan(40);
    for (const e of list) expect(obisName(parseObis(e.obis))).toBe(e.name);
  });
});
