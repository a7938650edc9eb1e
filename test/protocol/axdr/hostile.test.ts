import fc from 'fast-check';
import { decodeBerElement } from '../../../protocol/axdr/ber';
import { decodeData } from '../../../protocol/axdr/codec';
import { MAX_COMPACT_VALUES_PER_BYTE, typeDescriptionCost } from '../../../protocol/axdr/compact-budget';
import type { Data } from '../../../protocol/axdr/data';
import { DcuError, ErrorCode, isDcuError } from '../../../protocol/common/errors';
import { fromHex } from '../../../protocol/common/hex';

/**
 * Hostile input (issue 7 item 10): counts and lengths a peer claims must be checked against
 * the bytes actually there before anything is allocated. Memory bounds are checked by the
 * size of what decodes and by peak RSS, never by time.
 */

function decodeError(bytes: Uint8Array, decode: (b: Uint8Array) => unknown = decodeData): DcuError {
  try {
    decode(bytes);
  } catch (e) {
    if (e instanceof DcuError) return e;
    throw e;
  }
  throw new Error('decoded without error');
}

/** Data values in a decoded tree (what the decoder had to allocate). */
function valueCount(d: Data): number {
  if (d.type === 'array' || d.type === 'structure' || d.type === 'compact-array') {
    let n = 1;
    for (const item of d.items) n += valueCount(item);
    return n;
  }
  return 1;
}

const hex = (s: string): Uint8Array => fromHex(s.replace(/ /g, ''));

describe('A-XDR decode refuses counts the bytes cannot hold', () => {
  it('the compact-array whose description nests counts (1301ffff01ffff000100) fails at once', () => {
    // array[65535] of array[65535] of null: 4·10⁹ values from one content byte.
    const e = decodeError(hex('1301ffff01ffff000100'));
    expect(e.code).toBe(ErrorCode.DecodeBadValue);
    expect(e.message).toContain('compact-array at byte 0');
    expect(e.message).toContain('takes no bytes');
    expect(e.context.offset).toBe(0);
  });

  it.each([
    // [why, hex, code, offset named]
    ['nested arrays of uint8 in one content byte', '13 01ffff 01ffff 11 01 00', ErrorCode.DecodeBadLength, 0],
    ['nested arrays of null beside a uint8 (4·10⁹ values per byte)', '13 02 02 01ffff 01ffff 00 11 02 0000', ErrorCode.DecodeBadLength, 0],
    ['compact-array inside an array: offset of the inner one', '01 01 13 01ffff 01ffff 00 01 00', ErrorCode.DecodeBadValue, 2],
    ['structure description counting 2³² elements', '13 02 84ffffffff 11', ErrorCode.DecodeBadLength, 2],
    ['compact-array contents longer than the frame', '13 11 84ffffffff 00', ErrorCode.DecodeBadLength, 2],
    ['array of 2³² elements', '01 84ffffffff 00', ErrorCode.DecodeBadLength, 1],
    ['structure of 127 elements with one byte left', '02 7f 00', ErrorCode.DecodeBadLength, 1],
    ['an inner array claiming 2¹⁶ elements', '01 02 01 82ffff 00 00', ErrorCode.DecodeBadLength, 3],
    ['octet-string of 4 GB', '09 84ffffffff 00', ErrorCode.DecodeBadLength, 1],
    ['visible-string of 16 MB', '0A 83ffffff 41', ErrorCode.DecodeBadLength, 1],
    ['utf8-string of 64 kB', '0C 82ffff 41', ErrorCode.DecodeBadLength, 1],
    ['bit-string of 2³² bits', '04 84ffffffff 00', ErrorCode.DecodeBadLength, 1],
    ['five length bytes', '09 85ffffffffff', ErrorCode.DecodeBadLength, 1],
  ])('%s', (_why, text, code, offset) => {
    const e = decodeError(hex(text));
    expect(e.code).toBe(code);
    expect(e.context.offset).toBe(offset);
    expect(e.message).toMatch(/at byte \d+/);
  });

  it('a description that makes more values than its bytes justify is refused before reading', () => {
    // array[65535] of structure{null, null, null, null, uint8}: 6 values per content byte.
    const contents = new Uint8Array(65535);
    const bytes = Uint8Array.from([0x13, 0x01, 0xff, 0xff, 0x02, 0x05, 0, 0, 0, 0, 0x11, 0x82, 0xff, 0xff, ...contents]);
    const e = decodeError(bytes);
    expect(e.code).toBe(ErrorCode.DecodeBadLength);
    expect(e.message).toContain(`more than ${MAX_COMPACT_VALUES_PER_BYTE} per content byte`);
  });

  it('ordinary compact-arrays stay within the budget', () => {
    expect(typeDescriptionCost({ type: 'structure', elements: [{ type: 'octet-string' }, { type: 'uint8' }, { type: 'uint32' }, { type: 'uint32' }] })).toEqual({
      minBytes: 10,
      values: 5,
    });
    expect(typeDescriptionCost({ type: 'array', count: 3, element: { type: 'structure', elements: [{ type: 'boolean' }, { type: 'int16' }] } })).toEqual({
      minBytes: 9,
      values: 10,
    });
    // compact-array of two structure{uint8, uint8}: 7 values from 4 content bytes decodes.
    expect(valueCount(decodeData(hex('13 02 02 11 11 04 0102 0304')))).toBe(7);
  });

  it('BER lengths are checked against the bytes left', () => {
    const e = decodeError(hex('60 84ffffffff 00'), (b) => decodeBerElement(b));
    expect(e.code).toBe(ErrorCode.DecodeBadLength);
    expect(e.context.offset).toBe(1);
  });
});

/** Headers that claim a lot: nested array counts, compact-array descriptions, long lengths. */
const arbCount = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0xffff, 0x8000, 0x1000, 0));
const arbDescription: fc.Arbitrary<number[]> = fc.letrec<{ d: number[] }>((tie) => ({
  d: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(0x00, 0x00, 0x11, 0x12, 0x06, 0x09, 0x19, 0x04).map((tag) => [tag]),
    fc.tuple(arbCount, tie('d')).map(([n, e]) => [0x01, n >> 8, n & 0xff, ...e]),
    fc.array(tie('d'), { maxLength: 4 }).map((es) => [0x02, es.length, ...es.flat()]),
  ),
})).d;

const arbLength = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }).map((n) => [n]),
  fc.constantFrom([0x81, 0xff], [0x82, 0xff, 0xff], [0x84, 0xff, 0xff, 0xff, 0xff], [0x83, 0x01, 0x00, 0x00]),
);

/** A compact-array whose contents length is honest (so decoding reaches the contents) or not. */
const arbCompact = fc
  .tuple(arbDescription, fc.uint8Array({ minLength: 1, maxLength: 48 }), fc.option(arbLength, { freq: 4 }))
  .map(([d, contents, len]) => Uint8Array.from([0x13, ...d, ...(len ?? [contents.length]), ...contents]));

const arbHostile: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  arbCompact,
  arbCompact,
  // compact-arrays inside arrays and structures
  fc.tuple(fc.constantFrom(0x01, 0x02), arbCompact).map(([tag, c]) => Uint8Array.from([tag, 1, ...c])),
  fc
    .tuple(fc.array(fc.tuple(fc.constantFrom(0x01, 0x02), arbLength), { minLength: 1, maxLength: 6 }), fc.uint8Array({ maxLength: 32 }))
    .map(([heads, tail]) => Uint8Array.from([...heads.flatMap(([tag, len]) => [tag, ...len]), ...tail])),
  fc.tuple(fc.constantFrom(0x04, 0x09, 0x0a, 0x0c), arbLength, fc.uint8Array({ maxLength: 16 })).map(([tag, len, rest]) => Uint8Array.from([tag, ...len, ...rest])),
);

describe('property: hostile headers', () => {
  it('give a value no bigger than the bytes justify, or a DcuError, with peak memory flat', () => {
    const rssBefore = process.resourceUsage().maxRSS; // kB, the peak so far
    fc.assert(
      fc.property(arbHostile, (bytes) => {
        let d: Data;
        try {
          d = decodeData(bytes);
        } catch (e) {
          if (!isDcuError(e)) throw e;
          return;
        }
        // Tagged Data is at most one value per byte; compact-arrays at most the budget.
        expect(valueCount(d)).toBeLessThanOrEqual(MAX_COMPACT_VALUES_PER_BYTE * bytes.length);
      }),
      { numRuns: 5000 },
    );
    // A decoder that allocated per claimed element would have needed gigabytes here.
    expect(process.resourceUsage().maxRSS - rssBefore).toBeLessThan(64 * 1024);
  });
});
