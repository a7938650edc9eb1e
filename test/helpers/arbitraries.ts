import fc from 'fast-check';
import type { CosemDateTime, Data, TypeDescription } from '../../protocol/axdr/data';

const nullable = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(a, { nil: null });

export const arbDateTime: fc.Arbitrary<CosemDateTime> = fc.record({
  year: nullable(fc.integer({ min: 0, max: 0xfffe })),
  month: nullable(fc.integer({ min: 0, max: 0xfe })),
  day: nullable(fc.integer({ min: 0, max: 0xfe })),
  dayOfWeek: nullable(fc.integer({ min: 0, max: 0xfe })),
  hour: nullable(fc.integer({ min: 0, max: 0xfe })),
  minute: nullable(fc.integer({ min: 0, max: 0xfe })),
  second: nullable(fc.integer({ min: 0, max: 0xfe })),
  hundredths: nullable(fc.integer({ min: 0, max: 0xfe })),
  deviation: nullable(fc.integer({ min: -0x7fff, max: 0x7fff })),
  clockStatus: nullable(fc.integer({ min: 0, max: 0xfe })),
});

const bytes = fc.uint8Array({ maxLength: 40 });
const f32 = fc.float({ noNaN: true }).map((v) => Math.fround(v));

/** Scalar Data values (everything but array/structure/compact-array). */
export const arbScalarData: fc.Arbitrary<Data> = fc.oneof(
  fc.constant<Data>({ type: 'null' }),
  fc.boolean().map((value): Data => ({ type: 'boolean', value })),
  fc.integer({ min: 0, max: 70 }).chain((length) =>
    fc.uint8Array({ minLength: Math.ceil(length / 8), maxLength: Math.ceil(length / 8) }).map((value): Data => {
      // Bits past the length are padding; keep them zero so the round trip is exact.
      const v = value.slice();
      const spare = v.length * 8 - length;
      if (spare > 0 && v.length > 0) v[v.length - 1] = (v[v.length - 1] ?? 0) & ((0xff << spare) & 0xff);
      return { type: 'bit-string', length, value: v };
    }),
  ),
  fc.integer({ min: -128, max: 127 }).map((value): Data => ({ type: 'int8', value })),
  fc.integer({ min: -32768, max: 32767 }).map((value): Data => ({ type: 'int16', value })),
  fc.integer().map((value): Data => ({ type: 'int32', value })),
  fc.integer({ min: 0, max: 255 }).map((value): Data => ({ type: 'uint8', value })),
  fc.integer({ min: 0, max: 255 }).map((value): Data => ({ type: 'enum', value })),
  fc.integer({ min: 0, max: 255 }).map((value): Data => ({ type: 'bcd', value })),
  fc.integer({ min: 0, max: 65535 }).map((value): Data => ({ type: 'uint16', value })),
  fc.integer({ min: 0, max: 0xffffffff }).map((value): Data => ({ type: 'uint32', value })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value): Data => ({ type: 'int64', value })),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value): Data => ({ type: 'uint64', value })),
  f32.map((value): Data => ({ type: 'float32', value })),
  fc.double({ noNaN: true }).map((value): Data => ({ type: 'float64', value })),
  bytes.map((value): Data => ({ type: 'octet-string', value })),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 }).map((value): Data => ({ type: 'visible-string', value })),
  fc.string({ maxLength: 20 }).filter((s) => !/[\uD800-\uDFFF]/.test(s)).map((value): Data => ({ type: 'utf8-string', value })),
  arbDateTime.map((value): Data => ({ type: 'date-time', value })),
  arbDateTime.map(({ year, month, day, dayOfWeek }): Data => ({ type: 'date', value: { year, month, day, dayOfWeek } })),
  arbDateTime.map(({ hour, minute, second, hundredths }): Data => ({ type: 'time', value: { hour, minute, second, hundredths } })),
);

/** Any Data, nested a few levels. */
export const arbData: fc.Arbitrary<Data> = fc.letrec<{ data: Data }>((tie) => ({
  data: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbScalarData,
    fc.array(tie('data'), { maxLength: 5 }).map((items): Data => ({ type: 'array', items })),
    fc.array(tie('data'), { maxLength: 5 }).map((items): Data => ({ type: 'structure', items })),
  ),
})).data;

/** Compact arrays of structures of simple numeric types (how profile buffers use them). */
export const arbCompactArray: fc.Arbitrary<Data> = fc
  .array(fc.constantFrom<'uint8' | 'int16' | 'uint32'>('uint8', 'int16', 'uint32'), { minLength: 1, maxLength: 4 })
  .chain((types) => {
    const element: TypeDescription = { type: 'structure', elements: types.map((type) => ({ type })) };
    const value = (t: 'uint8' | 'int16' | 'uint32'): fc.Arbitrary<Data> =>
      t === 'uint8'
        ? fc.integer({ min: 0, max: 255 }).map((v): Data => ({ type: 'uint8', value: v }))
        : t === 'int16'
          ? fc.integer({ min: -32768, max: 32767 }).map((v): Data => ({ type: 'int16', value: v }))
          : fc.integer({ min: 0, max: 0xffffffff }).map((v): Data => ({ type: 'uint32', value: v }));
    const row = fc.tuple(...types.map(value)).map((items): Data => ({ type: 'structure', items }));
    return fc.array(row, { maxLength: 6 }).map((items): Data => ({ type: 'compact-array', element, items }));
  });
