import fc from 'fast-check';
import { clientAddress, serverAddress } from '../../../protocol/hdlc/address';
import { decodeControl, encodeControl, type HdlcControl } from '../../../protocol/hdlc/control';
import { decodeFrame, encodeFrame, type HdlcFrame } from '../../../protocol/hdlc/frame';
import { ErrorCode, isDcuError } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';

const SNRM = '7E A0 07 03 21 93 0F 01 7E';
const UA =
  '7E A0 1E 21 03 73 C3 7A 81 80 12 05 01 80 06 01 80 07 04 00 00 00 01 08 04 00 00 00 01 53 3B 7E';
const AARQ =
  '7E A0 2B 03 21 10 FB AF E6 E6 00 60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 1D FF FF E7 25 7E';
const RR = '7E A0 07 03 21 51 11 E4 7E';

describe('control field', () => {
  it.each<[number, HdlcControl]>([
    [0x93, { kind: 'SNRM', pf: true }],
    [0x73, { kind: 'UA', pf: true }],
    [0x53, { kind: 'DISC', pf: true }],
    [0x1f, { kind: 'DM', pf: true }],
    [0x97, { kind: 'FRMR', pf: true }],
    [0x13, { kind: 'UI', pf: true }],
    [0x03, { kind: 'UI', pf: false }],
    [0x10, { kind: 'I', ns: 0, nr: 0, pf: true }],
    [0x52, { kind: 'I', ns: 1, nr: 2, pf: true }],
    [0xfe, { kind: 'I', ns: 7, nr: 7, pf: true }],
    [0x51, { kind: 'RR', nr: 2, pf: true }],
    [0xe1, { kind: 'RR', nr: 7, pf: false }],
    [0x35, { kind: 'RNR', nr: 1, pf: true }],
  ])('0x%s decodes and re-encodes', (byte, control) => {
    expect(decodeControl(byte)).toEqual(control);
    expect(encodeControl(control)).toBe(byte);
  });

  it('rejects REJ and unknown U-frames', () => {
    expect(() => decodeControl(0x19, 5)).toThrow(expect.objectContaining({ code: ErrorCode.FramingBadFormat }));
    expect(() => decodeControl(0xff)).toThrow(/control byte 0xff/);
  });

  it('rejects sequence numbers out of range on encode', () => {
    expect(() => encodeControl({ kind: 'I', ns: 8, nr: 0, pf: false })).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
  });
});

describe('frame codec', () => {
  it('decodes an SNRM without information field', () => {
    const f = decodeFrame(fromHex(SNRM));
    expect(f).toEqual({
      dest: serverAddress(1),
      src: clientAddress(16),
      control: { kind: 'SNRM', pf: true },
      segmented: false,
      info: new Uint8Array(0),
    });
  });

  it('decodes a UA with parameters and an I-frame with LLC', () => {
    const ua = decodeFrame(fromHex(UA));
    expect(ua.control.kind).toBe('UA');
    expect(toHex(ua.info.subarray(0, 3))).toBe('818012');
    const i = decodeFrame(fromHex(AARQ));
    expect(i.control).toEqual({ kind: 'I', ns: 0, nr: 0, pf: true });
    expect(toHex(i.info.subarray(0, 4))).toBe('E6E60060');
  });

  it.each([SNRM, UA, AARQ, RR])('re-encodes %s byte for byte', (hex) => {
    expect(toHex(encodeFrame(decodeFrame(fromHex(hex))), ' ')).toBe(hex);
  });

  it('sets the segmentation bit and supports 2- and 4-byte server addresses', () => {
    const frame: HdlcFrame = {
      dest: clientAddress(1),
      src: serverAddress(1, 0x1234, 4),
      control: { kind: 'I', ns: 3, nr: 5, pf: false },
      segmented: true,
      info: Uint8Array.of(1, 2, 3),
    };
    const bytes = encodeFrame(frame);
    expect(bytes[1]! & 0x08).toBe(0x08);
    expect(decodeFrame(bytes)).toEqual(frame);
    const two = { ...frame, src: serverAddress(1, 17) };
    expect(decodeFrame(encodeFrame(two))).toEqual(two);
  });

  it('rejects a bad HCS and a bad FCS', () => {
    const hcs = fromHex(AARQ);
    hcs[4] = hcs[4]! ^ 0x40; // dest address bit (still an end byte)
    expect(() => decodeFrame(hcs)).toThrow(expect.objectContaining({ code: ErrorCode.FramingBadHcs }));
    const fcs = fromHex(AARQ);
    fcs[20] = fcs[20]! ^ 1;
    expect(() => decodeFrame(fcs)).toThrow(expect.objectContaining({ code: ErrorCode.FramingBadFcs }));
    const short = fromHex(SNRM);
    short[6] = short[6]! ^ 1;
    expect(() => decodeFrame(short)).toThrow(/FCS at byte 6/);
  });

  it.each([
    ['truncated', '7E A0 07 03 21', ErrorCode.DecodeTruncated],
    ['length mismatch', '7E A0 08 03 21 93 0F 01 7E', ErrorCode.DecodeTruncated],
    ['trailing bytes', '7E A0 07 03 21 93 0F 01 00 7E', ErrorCode.DecodeTrailingBytes],
    ['bad format type', '7E B0 07 03 21 93 0F 01 7E', ErrorCode.FramingBadFormat],
    ['length below minimum', '7E A0 05 03 21 93 0F 01 7E', ErrorCode.FramingBadFormat],
    ['no opening flag', '00 A0 07 03 21 93 0F 01 7E', ErrorCode.FramingBadFormat],
    ['no closing flag', '7E A0 07 03 21 93 0F 01 00', ErrorCode.FramingBadFormat],
    ['address without end bit', '7E A0 07 02 20 93 0F 01 7E', ErrorCode.FramingBadAddress],
  ])('rejects %s', (_name, hex, code) => {
    expect(() => decodeFrame(fromHex(hex))).toThrow(expect.objectContaining({ code }));
  });

  it('rejects an information field that does not fit 11 bits', () => {
    const frame: HdlcFrame = {
      dest: serverAddress(1),
      src: clientAddress(16),
      control: { kind: 'UI', pf: true },
      segmented: false,
      info: new Uint8Array(2040),
    };
    expect(() => encodeFrame(frame)).toThrow(expect.objectContaining({ code: ErrorCode.EncodeInvalid }));
  });

  const arbAddress = fc.oneof(
    fc.integer({ min: 0, max: 127 }).map((l) => serverAddress(l)),
    fc.tuple(fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: 127 })).map(([l, p]) => serverAddress(l, p, 2)),
    fc.tuple(fc.integer({ min: 0, max: 0x3fff }), fc.integer({ min: 0, max: 0x3fff })).map(([l, p]) => serverAddress(l, p, 4)),
  );
  const arbControl: fc.Arbitrary<HdlcControl> = fc.oneof(
    fc.record({ kind: fc.constant('I' as const), ns: fc.integer({ min: 0, max: 7 }), nr: fc.integer({ min: 0, max: 7 }), pf: fc.boolean() }),
    fc.record({ kind: fc.constantFrom('RR' as const, 'RNR' as const), nr: fc.integer({ min: 0, max: 7 }), pf: fc.boolean() }),
    fc.record({ kind: fc.constantFrom('SNRM' as const, 'UA' as const, 'DISC' as const, 'DM' as const, 'FRMR' as const, 'UI' as const), pf: fc.boolean() }),
  );
  const arbFrame: fc.Arbitrary<HdlcFrame> = fc.record({
    dest: arbAddress,
    src: arbAddress,
    control: arbControl,
    segmented: fc.boolean(),
    info: fc.uint8Array({ maxLength: 300 }),
  });

  it('round-trips any frame (property)', () => {
    fc.assert(fc.property(arbFrame, (f) => expect(decodeFrame(encodeFrame(f))).toEqual(f)));
  });

  it('only ever throws DcuError on random or mutated bytes (property)', () => {
    const mutated = fc
      .tuple(arbFrame, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
      .map(([f, muts]) => {
        const b = encodeFrame(f);
        for (const [at, v] of muts) b[at % b.length] = v;
        return b;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (b) => {
        try {
          decodeFrame(b);
        } catch (e) {
          if (!isDcuError(e)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
