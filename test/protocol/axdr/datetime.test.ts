import fc from 'fast-check';
import { dateTimeOctetsToEpoch, dateTimeToEpoch, decodeDateTimeOctets, encodeDateTimeOctets, epochToDateTime } from '../../../protocol/axdr/datetime';
import type { DateTimeOptions } from '../../../protocol/axdr/datetime';
import { DcuError } from '../../../protocol/common/errors';
import { fromHex } from '../../../protocol/common/hex';

/** 12 date-time bytes: mostly plausible fields, with wildcards and out-of-range values mixed in. */
const field = (lo: number, hi: number): fc.Arbitrary<number> => fc.oneof(fc.integer({ min: lo, max: hi }), fc.constantFrom(0, 0xfd, 0xfe, 0xff), fc.integer({ min: 0, max: 255 }));
const arbOctets = fc
  .tuple(
    fc.oneof(fc.integer({ min: 1970, max: 2100 }), fc.constantFrom(0, 50, 99, 0xffff), fc.integer({ min: 0, max: 0xffff })),
    field(1, 12),
    field(1, 31),
    field(1, 7),
    field(0, 23),
    field(0, 59),
    field(0, 59),
    field(0, 99),
    fc.oneof(fc.integer({ min: -720, max: 720 }), fc.constantFrom(0x8000 - 0x10000), fc.integer({ min: -0x8000, max: 0x7fff })),
    fc.integer({ min: 0, max: 255 }),
  )
  .map(([y, mo, d, wd, h, mi, s, hs, dev, st]) => Uint8Array.from([y >> 8, y & 0xff, mo, d, wd, h, mi, s, hs, (dev >> 8) & 0xff, dev & 0xff, st]));
const arbOptions: fc.Arbitrary<DateTimeOptions> = fc.record(
  { convention: fc.constantFrom('blue-book' as const, 'inverted' as const), defaultDeviation: fc.integer({ min: -720, max: 720 }) },
  { requiredKeys: [] },
);

describe('dateTimeOctetsToEpoch (the profile clock column fast path)', () => {
  it('equals dateTimeToEpoch(decodeDateTimeOctets(bytes)) for any 12 bytes and options', () => {
    fc.assert(
      fc.property(arbOctets, arbOptions, (bytes, options) => {
        expect(dateTimeOctetsToEpoch(bytes, options)).toBe(dateTimeToEpoch(decodeDateTimeOctets(bytes), options));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads at an offset and refuses fewer than 12 bytes with a DcuError', () => {
    const bytes = fromHex('AAAA07EA0B17010A1E0000FFC400');
    expect(dateTimeOctetsToEpoch(bytes, {}, 2)).toBe(Date.UTC(2026, 10, 23, 10, 30) - 3600_000);
    expect(() => dateTimeOctetsToEpoch(bytes, {}, 3)).toThrow(DcuError);
  });

  it('gets days right across a day, month and year change (its per-day cache)', () => {
    for (const t of [Date.UTC(2026, 11, 31, 23, 45), Date.UTC(2027, 0, 1, 0, 0), Date.UTC(2026, 11, 31, 23, 59, 59, 990), Date.UTC(2028, 1, 29, 12)]) {
      const dt = epochToDateTime(t, { deviation: -60 });
      expect(dateTimeOctetsToEpoch(encodeDateTimeOctets(dt))).toBe(t);
    }
  });
});

describe('decoded date-times', () => {
  it('keep the key order of epochToDateTime (json.ts compares them as text)', () => {
    const dt = epochToDateTime(Date.UTC(2026, 10, 23, 10, 30), { deviation: -60 });
    expect(JSON.stringify(decodeDateTimeOctets(encodeDateTimeOctets(dt)))).toBe(JSON.stringify(dt));
  });
});
