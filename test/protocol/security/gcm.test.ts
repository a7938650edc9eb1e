import { ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { type ProtectParams, authTag, buildIv, protect, unprotect } from '../../../protocol/security/gcm';
import { codeOf } from '../../helpers/dcu-error';

const EK = fromHex('000102030405060708090A0B0C0D0E0F');
const AK = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
const ST = fromHex('4D4D4D0000BC614E');
const IC = 0x01234567;
const GET = fromHex('C0010000080000010000FF0200'); // get-request clock time

const base: ProtectParams = { policy: 'auth-enc', blockKey: EK, authKey: AK, systemTitle: ST, invocationCounter: IC, plaintext: GET };

describe('suite 0 AES-GCM protect/unprotect', () => {
  // DLMS UA Green Book example (glo-get-request, Table 40 and the authenticated-only variant).
  it.each([
    ['auth-enc', '3001234567' + '411312FF935A47566827C467BC' + '7D825C3BE4A77C3FCC056B6B'],
    ['auth', '1001234567' + 'C0010000080000010000FF0200' + '06725D910F9221D263877516'],
    ['enc', '2001234567' + '411312FF935A47566827C467BC'],
  ] as const)('Green Book vector, policy %s', (policy, hex) => {
    expect(toHex(protect({ ...base, policy }))).toBe(hex);
    const out = unprotect({ blockKey: EK, authKey: AK, systemTitle: ST, payload: fromHex(hex) });
    expect(toHex(out.plaintext)).toBe(toHex(GET));
    expect(out.invocationCounter).toBe(IC);
  });

  it('matches an independent published example (dlms-encrypt-decrypt-cli README, 12-byte tag)', () => {
    const payload = protect({
      policy: 'auth-enc',
      blockKey: fromHex('454E4352595054494F4E4B45594B4559'),
      authKey: fromHex('41555448454E5449434154494F4E4B45'),
      systemTitle: fromHex('5249435249435249'),
      invocationCounter: 0x80000001,
      plaintext: fromHex('C001810001000060010AFF0200'),
    });
    // The README prints the full 16-byte tag 610D47E1E24B14E8A022AEFC6A43F3A3; suite 0 sends 12.
    expect(toHex(payload)).toBe('3080000001' + '0DE63F2331A09AA85E8830F5F3' + '610D47E1E24B14E8A022AEFC');
  });

  it('builds IV = system title ‖ IC big-endian', () => {
    expect(toHex(buildIv(ST, IC))).toBe('4D4D4D0000BC614E01234567');
  });

  it('sets the broadcast-key bit', () => {
    expect(protect({ ...base, broadcastKey: true })[0]).toBe(0x70);
  });

  it('authTag equals the tag of an auth-only protect', () => {
    const tag = authTag({ blockKey: EK, authKey: AK, systemTitle: ST, invocationCounter: IC, securityControl: 0x10, data: GET });
    expect(toHex(tag)).toBe('06725D910F9221D263877516');
  });

  describe('negative', () => {
    const good = protect(base);
    const goodAuth = protect({ ...base, policy: 'auth' });

    it('wrong block key → SecurityBadTag', () => {
      expect(codeOf(() => unprotect({ blockKey: AK, authKey: AK, systemTitle: ST, payload: good }))).toBe(ErrorCode.SecurityBadTag);
    });

    it('wrong authentication key → SecurityBadTag (both policies with a tag)', () => {
      expect(codeOf(() => unprotect({ blockKey: EK, authKey: EK, systemTitle: ST, payload: good }))).toBe(ErrorCode.SecurityBadTag);
      expect(codeOf(() => unprotect({ blockKey: EK, authKey: EK, systemTitle: ST, payload: goodAuth }))).toBe(ErrorCode.SecurityBadTag);
    });

    it('wrong system title → SecurityBadTag', () => {
      expect(codeOf(() => unprotect({ blockKey: EK, authKey: AK, systemTitle: fromHex('4D4D4D0000BC614F'), payload: good }))).toBe(
        ErrorCode.SecurityBadTag,
      );
    });

    it('every flipped bit after SC → SecurityBadTag', () => {
      for (let i = 1; i < good.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const bad = good.slice();
          bad[i] = bad[i]! ^ (1 << bit);
          expect(codeOf(() => unprotect({ blockKey: EK, authKey: AK, systemTitle: ST, payload: bad }))).toBe(ErrorCode.SecurityBadTag);
        }
      }
    });

    it('tampered clear text under auth-only → SecurityBadTag', () => {
      const bad = goodAuth.slice();
      bad[6] = bad[6]! ^ 0x01;
      expect(codeOf(() => unprotect({ blockKey: EK, authKey: AK, systemTitle: ST, payload: bad }))).toBe(ErrorCode.SecurityBadTag);
    });

    it('bad key length → SecurityBadKey', () => {
      expect(codeOf(() => protect({ ...base, blockKey: EK.subarray(0, 15) }))).toBe(ErrorCode.SecurityBadKey);
      expect(codeOf(() => protect({ ...base, authKey: new Uint8Array(32) }))).toBe(ErrorCode.SecurityBadKey);
      expect(codeOf(() => unprotect({ blockKey: new Uint8Array(8), authKey: AK, systemTitle: ST, payload: good }))).toBe(
        ErrorCode.SecurityBadKey,
      );
    });

    it('bad system title or counter → typed errors', () => {
      expect(codeOf(() => protect({ ...base, systemTitle: ST.subarray(0, 7) }))).toBe(ErrorCode.EncodeInvalid);
      expect(codeOf(() => protect({ ...base, invocationCounter: 2 ** 32 }))).toBe(ErrorCode.SecurityCounterExhausted);
      expect(codeOf(() => protect({ ...base, invocationCounter: -1 }))).toBe(ErrorCode.SecurityCounterExhausted);
    });

    it('policy none, other suites, compression → SecurityUnsupported', () => {
      expect(codeOf(() => protect({ ...base, policy: 'none' }))).toBe(ErrorCode.SecurityUnsupported);
      for (const sc of [0x00, 0x31, 0xb0, 0x40]) {
        const bad = good.slice();
        bad[0] = sc;
        expect(codeOf(() => unprotect({ blockKey: EK, authKey: AK, systemTitle: ST, payload: bad }))).toBe(ErrorCode.SecurityUnsupported);
      }
    });

    it('truncated header or tag → DecodeTruncated', () => {
      expect(codeOf(() => unprotect({ blockKey: EK, authKey: AK, systemTitle: ST, payload: good.subarray(0, 3) }))).toBe(
        ErrorCode.DecodeTruncated,
      );
      expect(codeOf(() => unprotect({ blockKey: EK, authKey: AK, systemTitle: ST, payload: good.subarray(0, 12) }))).toBe(
        ErrorCode.DecodeTruncated,
      );
    });
  });
});
