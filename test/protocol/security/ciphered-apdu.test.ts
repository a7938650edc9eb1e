import fc from 'fast-check';
import { ErrorCode, isDcuError } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import {
  type CipherContext,
  GENERAL_DED_CIPHERING,
  GENERAL_GLO_CIPHERING,
  cipherApdu,
  cipheredTagFor,
  decipherApdu,
  describeCipheredTag,
  isCipheredTag,
} from '../../../protocol/security/ciphered-apdu';
import { SECURITY_POLICIES } from '../../../protocol/security/security-control';
import { codeOf } from '../../helpers/dcu-error';

const EK = fromHex('000102030405060708090A0B0C0D0E0F');
const AK = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
const DK = fromHex('1112131415161718191A1B1C1D1E1F10');
const BK = fromHex('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
const ST = fromHex('4D4D4D0000BC614E');
const GET = fromHex('C0010000080000010000FF0200');

const ctx: CipherContext = { policy: 'auth-enc', systemTitle: ST, invocationCounter: 0x01234567, blockKey: EK, authKey: AK };
const keys = { blockKey: EK, authKey: AK, dedicatedKey: DK, broadcastKey: BK, peerSystemTitle: ST };

describe('ciphered APDU tags', () => {
  it.each([
    [0x01, 0x21, 0x41],
    [0x08, 0x28, 0x48],
    [0x0e, 0x2e, 0x4e],
    [0xc0, 0xc8, 0xd0],
    [0xc1, 0xc9, 0xd1],
    [0xc2, 0xca, 0xd2],
    [0xc3, 0xcb, 0xd3],
    [0xc4, 0xcc, 0xd4],
    [0xc5, 0xcd, 0xd5],
    [0xc7, 0xcf, 0xd7],
  ])('plain 0x%s → glo 0x%s, ded 0x%s', (plain, glo, ded) => {
    expect(cipheredTagFor(plain, 'global')).toBe(glo);
    expect(cipheredTagFor(plain, 'dedicated')).toBe(ded);
    expect(describeCipheredTag(glo)).toEqual({ plainTag: plain, keyKind: 'global', general: false });
    expect(describeCipheredTag(ded)).toEqual({ plainTag: plain, keyKind: 'dedicated', general: false });
  });

  it('has no service-specific form for data-notification, exception-response, general-block-transfer', () => {
    for (const t of [0x0f, 0xd8, 0xe0]) expect(cipheredTagFor(t)).toBeUndefined();
    expect(isCipheredTag(GENERAL_GLO_CIPHERING) && isCipheredTag(GENERAL_DED_CIPHERING)).toBe(true);
    expect(isCipheredTag(0xc0)).toBe(false);
  });
});

describe('cipherApdu / decipherApdu', () => {
  it('encodes the Green Book glo-get-request (Table 40) byte for byte and back', () => {
    const hex = 'C81E30012345674113' + '12FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B';
    expect(toHex(cipherApdu(GET, ctx))).toBe(hex);
    const d = decipherApdu(fromHex(hex), keys);
    expect(toHex(d.apdu)).toBe(toHex(GET));
    expect(d).toMatchObject({ tag: 0xc8, keyKind: 'global', general: false, invocationCounter: 0x01234567 });
    expect(d.systemTitle).toBeUndefined();
  });

  it('general-glo-ciphering carries the sender system title', () => {
    const bytes = cipherApdu(GET, { ...ctx, general: true });
    expect(toHex(bytes.subarray(0, 11))).toBe('DB08' + toHex(ST) + '1E');
    const d = decipherApdu(bytes, { blockKey: EK, authKey: AK }); // no peer title needed
    expect(toHex(d.systemTitle!)).toBe(toHex(ST));
    expect(toHex(d.apdu)).toBe(toHex(GET));
  });

  it.each(SECURITY_POLICIES.filter((p) => p !== 'none'))('round-trips with policy %s, every key kind and form', (policy) => {
    for (const keyKind of ['global', 'dedicated', 'broadcast'] as const) {
      for (const general of [false, true]) {
        const bytes = cipherApdu(GET, { ...ctx, policy, keyKind, dedicatedKey: DK, broadcastKey: BK, general });
        const d = decipherApdu(bytes, keys);
        expect(toHex(d.apdu)).toBe(toHex(GET));
        expect(d.keyKind).toBe(keyKind === 'dedicated' ? 'dedicated' : 'global');
        expect(d.securityControl.broadcastKey).toBe(keyKind === 'broadcast');
        if (general) expect(bytes[0]).toBe(keyKind === 'dedicated' ? GENERAL_DED_CIPHERING : GENERAL_GLO_CIPHERING);
      }
    }
  });

  it('uses long-form lengths for big APDUs', () => {
    const big = new Uint8Array(300);
    big[0] = 0xc4;
    const bytes = cipherApdu(big, { ...ctx, general: true });
    expect(toHex(bytes.subarray(10, 13))).toBe('82013D'); // 5 + 300 + 12 = 317
    expect(decipherApdu(bytes, keys).apdu).toEqual(big);
  });

  describe('negative', () => {
    const good = cipherApdu(GET, ctx);

    it('flipped tag bit, wrong key → SecurityBadTag', () => {
      const bad = good.slice();
      bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x80;
      expect(codeOf(() => decipherApdu(bad, keys))).toBe(ErrorCode.SecurityBadTag);
      expect(codeOf(() => decipherApdu(good, { ...keys, blockKey: DK }))).toBe(ErrorCode.SecurityBadTag);
    });

    it('unknown tag → DecodeBadTag; wrapped APDU of another service → DecodeBadTag', () => {
      expect(codeOf(() => decipherApdu(GET, keys))).toBe(ErrorCode.DecodeBadTag);
      const wrongService = cipherApdu(fromHex('C4010000'), ctx);
      wrongService[0] = 0xc8; // glo-get-request wrapping a get-response
      expect(codeOf(() => decipherApdu(wrongService, keys))).toBe(ErrorCode.DecodeBadTag);
    });

    it('length overflow, trailing bytes, short content, bad system title length', () => {
      const overflow = good.slice();
      overflow[1] = 0x7f;
      expect(codeOf(() => decipherApdu(overflow, keys))).toBe(ErrorCode.DecodeBadLength);
      expect(codeOf(() => decipherApdu(Uint8Array.of(...good, 0), keys))).toBe(ErrorCode.DecodeTrailingBytes);
      expect(codeOf(() => decipherApdu(fromHex('C80430010203'), keys))).toBe(ErrorCode.DecodeBadLength);
      expect(codeOf(() => decipherApdu(fromHex('DB07000102030405060130'), keys))).toBe(ErrorCode.DecodeBadLength);
      expect(codeOf(() => decipherApdu(good.subarray(0, 10), keys))).toBe(ErrorCode.DecodeBadLength);
    });

    it('missing peer title or key → typed error', () => {
      expect(codeOf(() => decipherApdu(good, { blockKey: EK, authKey: AK }))).toBe(ErrorCode.SecurityUnsupported);
      const ded = cipherApdu(GET, { ...ctx, keyKind: 'dedicated', dedicatedKey: DK });
      expect(codeOf(() => decipherApdu(ded, { blockKey: EK, authKey: AK, peerSystemTitle: ST }))).toBe(ErrorCode.SecurityBadKey);
      expect(codeOf(() => cipherApdu(GET, { ...ctx, keyKind: 'dedicated' }))).toBe(ErrorCode.SecurityBadKey);
    });

    it('refuses to cipher what has no service-specific tag, or nothing', () => {
      expect(codeOf(() => cipherApdu(fromHex('0F00000001'), ctx))).toBe(ErrorCode.SecurityUnsupported);
      expect(cipherApdu(fromHex('0F00000001'), { ...ctx, general: true })[0]).toBe(0xdb);
      expect(codeOf(() => cipherApdu(new Uint8Array(0), ctx))).toBe(ErrorCode.EncodeInvalid);
    });
  });

  describe('properties', () => {
    function onlyDcuError(bytes: Uint8Array): void {
      try {
        decipherApdu(bytes, keys);
      } catch (e) {
        if (!isDcuError(e)) throw e;
      }
    }

    it('random bytes → only DcuError', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyDcuError(b)), { numRuns: 2000 });
    });

    it('random bytes behind a ciphered tag and a plausible header → only DcuError', () => {
      const tags = [0x21, 0x28, 0xc8, 0xcc, 0xd0, 0xdb, 0xdc];
      fc.assert(
        fc.property(fc.constantFrom(...tags), fc.constantFrom(0x10, 0x20, 0x30, 0x70, 0xb0, 0x31), fc.uint8Array({ maxLength: 200 }), (tag, sc, body) => {
          const st = tag >= 0xdb ? [0x08, ...ST] : [];
          onlyDcuError(Uint8Array.of(tag, ...st, body.length + 1, sc, ...body));
        }),
        { numRuns: 2000 },
      );
    });

    it('single-byte corruptions of a valid APDU → only DcuError, never the original plaintext silently', () => {
      fc.assert(
        fc.property(fc.nat(good().length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
          const bad = good().slice();
          bad[i] = bad[i]! ^ x;
          onlyDcuError(bad);
        }),
        { numRuns: 1000 },
      );
    });

    it('decipher(cipher(x)) = x', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(0xc0, 0xc1, 0xc3, 0xc4, 0xc5, 0xc7, 0x01, 0x08),
          fc.uint8Array({ maxLength: 400 }),
          fc.constantFrom('auth', 'enc', 'auth-enc' as const),
          fc.boolean(),
          fc.nat(0xffffffff),
          (tag, body, policy, general, ic) => {
            const apdu = Uint8Array.of(tag, ...body);
            const d = decipherApdu(cipherApdu(apdu, { ...ctx, policy, general, invocationCounter: ic }), keys);
            expect(d.apdu).toEqual(apdu);
            expect(d.invocationCounter).toBe(ic);
          },
        ),
        { numRuns: 300 },
      );
    });

    function good(): Uint8Array {
      return cipherApdu(GET, { ...ctx, general: true });
    }
  });
});
