import {
  DEFAULT_HDLC_PARAMETERS,
  decodeHdlcParameters,
  encodeHdlcParameters,
  negotiateForUa,
  negotiateFromUa,
} from '../../../protocol/hdlc/params';
import { ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';

describe('HDLC parameters', () => {
  it('decodes the UA of the reference meter (4-byte windows)', () => {
    const ua = fromHex('81 80 12 05 01 80 06 01 80 07 04 00 00 00 01 08 04 00 00 00 01');
    expect(decodeHdlcParameters(ua)).toEqual({ maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
  });

  it('encodes 1- and 2-byte max-info and 4-byte windows', () => {
    expect(toHex(encodeHdlcParameters(DEFAULT_HDLC_PARAMETERS), ' ')).toBe(
      '81 80 12 05 01 80 06 01 80 07 04 00 00 00 01 08 04 00 00 00 01',
    );
    const big = { maxInfoTx: 2030, maxInfoRx: 512, windowTx: 7, windowRx: 3 };
    const enc = encodeHdlcParameters(big);
    expect(toHex(enc, ' ')).toBe('81 80 14 05 02 07 EE 06 02 02 00 07 04 00 00 00 07 08 04 00 00 00 03');
    expect(decodeHdlcParameters(enc)).toEqual(big);
  });

  it('uses defaults for an empty field and for missing parameters; skips unknown ids', () => {
    expect(decodeHdlcParameters(new Uint8Array(0))).toEqual(DEFAULT_HDLC_PARAMETERS);
    expect(decodeHdlcParameters(fromHex('81 80 07 05 02 01 00 09 01 05'))).toEqual({ ...DEFAULT_HDLC_PARAMETERS, maxInfoTx: 256 });
  });

  it.each([
    ['82 80 00', ErrorCode.DecodeBadTag],
    ['81 81 00', ErrorCode.DecodeBadTag],
    ['81 80 05 05 01 80', ErrorCode.DecodeBadLength],
    ['81 80 03 05 05 80', ErrorCode.DecodeBadLength],
    ['81 80 03 05 02 80', ErrorCode.DecodeTruncated],
    ['81 80 03 05 01 00', ErrorCode.DecodeBadValue],
    ['81', ErrorCode.DecodeTruncated],
  ])('rejects %s', (hex, code) => {
    expect(() => decodeHdlcParameters(fromHex(hex))).toThrow(expect.objectContaining({ code }));
  });

  it('rejects out-of-range values on encode', () => {
    expect(() => encodeHdlcParameters({ ...DEFAULT_HDLC_PARAMETERS, windowTx: 8 })).toThrow(
      expect.objectContaining({ code: ErrorCode.EncodeInvalid }),
    );
  });

  it('negotiates crosswise between the two points of view', () => {
    const asked = { maxInfoTx: 2030, maxInfoRx: 2030, windowTx: 7, windowRx: 7 };
    const limits = { maxInfoTx: 512, maxInfoRx: 256, windowTx: 3, windowRx: 2 };
    const ua = negotiateForUa(asked, limits);
    expect(ua).toEqual(limits);
    expect(negotiateFromUa(asked, ua)).toEqual({ maxInfoTx: 256, maxInfoRx: 512, windowTx: 2, windowRx: 3 });
    expect(negotiateFromUa(asked, DEFAULT_HDLC_PARAMETERS)).toEqual(DEFAULT_HDLC_PARAMETERS);
  });
});
