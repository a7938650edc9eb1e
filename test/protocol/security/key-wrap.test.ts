import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { unwrapKey, wrapKey } from '../../../protocol/security/key-wrap';
import { codeOf } from '../../helpers/dcu-error';

const KEK128 = '000102030405060708090A0B0C0D0E0F';
const KEK192 = KEK128 + '1011121314151617';
const KEK256 = KEK128 + '101112131415161718191A1B1C1D1E1F';
const DATA128 = '00112233445566778899AABBCCDDEEFF';
const DATA192 = DATA128 + '0001020304050607';
const DATA256 = DATA128 + '000102030405060708090A0B0C0D0E0F';

// RFC 3394 section 4.1–4.6.
const VECTORS = [
  ['4.1', KEK128, DATA128, '1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5'],
  ['4.2', KEK192, DATA128, '96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D'],
  ['4.3', KEK256, DATA128, '64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7'],
  ['4.4', KEK192, DATA192, '031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2'],
  ['4.5', KEK256, DATA192, 'A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1'],
  ['4.6', KEK256, DATA256, '28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21'],
] as const;

describe('AES key wrap (RFC 3394)', () => {
  it.each(VECTORS)('RFC 3394 %s wraps and unwraps', (_n, kek, data, wrapped) => {
    expect(toHex(wrapKey(fromHex(kek), fromHex(data)))).toBe(wrapped);
    expect(toHex(unwrapKey(fromHex(kek), fromHex(wrapped)))).toBe(data);
  });

  it('agrees with OpenSSL id-aes128-wrap on random keys', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (kek, key) => {
        const c = createCipheriv('id-aes128-wrap', kek, fromHex('A6A6A6A6A6A6A6A6'));
        const ref = Buffer.concat([c.update(key), c.final()]);
        expect(toHex(wrapKey(kek, key))).toBe(toHex(ref));
      }),
      { numRuns: 50 },
    );
  });

  it('integrity failure → SecurityBadTag (wrong KEK or any flipped bit)', () => {
    const wrapped = fromHex(VECTORS[0][3]);
    expect(codeOf(() => unwrapKey(fromHex(KEK128.replace('0F', '0E')), wrapped))).toBe(ErrorCode.SecurityBadTag);
    for (let i = 0; i < wrapped.length; i++) {
      const bad = wrapped.slice();
      bad[i] = bad[i]! ^ 0x01;
      expect(codeOf(() => unwrapKey(fromHex(KEK128), bad))).toBe(ErrorCode.SecurityBadTag);
    }
  });

  it('bad lengths → typed errors', () => {
    expect(codeOf(() => wrapKey(new Uint8Array(15), fromHex(DATA128)))).toBe(ErrorCode.SecurityBadKey);
    expect(codeOf(() => wrapKey(fromHex(KEK128), new Uint8Array(8)))).toBe(ErrorCode.EncodeInvalid);
    expect(codeOf(() => wrapKey(fromHex(KEK128), new Uint8Array(20)))).toBe(ErrorCode.EncodeInvalid);
    expect(codeOf(() => unwrapKey(fromHex(KEK128), new Uint8Array(16)))).toBe(ErrorCode.DecodeBadLength);
    expect(codeOf(() => unwrapKey(fromHex(KEK128), new Uint8Array(25)))).toBe(ErrorCode.DecodeBadLength);
  });
});
