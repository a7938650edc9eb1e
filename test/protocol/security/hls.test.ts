import { createHash } from 'node:crypto';
import { ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import {
  type HlsSha256Params,
  cryptoRandom,
  generateChallenge,
  hlsGmacResponse,
  hlsSha256ClientResponse,
  hlsSha256ServerResponse,
  verifyHlsGmac,
  verifyHlsSha256ServerResponse,
} from '../../../protocol/security/hls';
import { codeOf } from '../../helpers/dcu-error';

const EK = fromHex('000102030405060708090A0B0C0D0E0F');
const AK = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
const ST_C = fromHex('4775727578313233');
const ST_S = fromHex('4142434445464748');

describe('challenge generator', () => {
  it('uses the injected random source', () => {
    let calls = 0;
    const fake = (n: number): Uint8Array => {
      calls++;
      return Uint8Array.from({ length: n }, (_, i) => i);
    };
    expect(toHex(generateChallenge(8, fake))).toBe('0001020304050607');
    expect(calls).toBe(1);
  });

  it('defaults to 16 random bytes and refuses lengths outside 8..64', () => {
    expect(generateChallenge()).toHaveLength(16);
    expect(cryptoRandom(64)).toHaveLength(64);
    expect(codeOf(() => generateChallenge(7))).toBe(ErrorCode.InvalidValue);
    expect(codeOf(() => generateChallenge(65))).toBe(ErrorCode.InvalidValue);
    expect(codeOf(() => generateChallenge(16, () => new Uint8Array(3)))).toBe(ErrorCode.Internal);
  });
});

describe('HLS-GMAC (mechanism 5)', () => {
  const challenge = fromHex('70389CCE67B359AC56AB552A158A4522');

  it('has the layout SC(0x10) ‖ IC ‖ tag(12) and verifies', () => {
    const f = hlsGmacResponse({ challenge, systemTitle: ST_C, invocationCounter: 7, blockKey: EK, authKey: AK });
    expect(f).toHaveLength(17);
    expect(toHex(f.subarray(0, 5))).toBe('1000000007');
    expect(verifyHlsGmac({ response: f, challenge, systemTitle: ST_C, blockKey: EK, authKey: AK })).toEqual({ invocationCounter: 7 });
  });

  it('rejects wrong length, wrong SC, a flipped tag bit', () => {
    const f = hlsGmacResponse({ challenge, systemTitle: ST_C, invocationCounter: 7, blockKey: EK, authKey: AK });
    const p = { challenge, systemTitle: ST_C, blockKey: EK, authKey: AK };
    expect(codeOf(() => verifyHlsGmac({ ...p, response: f.subarray(0, 16) }))).toBe(ErrorCode.AssociationAuthFailed);
    const sc = f.slice();
    sc[0] = 0x30;
    expect(codeOf(() => verifyHlsGmac({ ...p, response: sc }))).toBe(ErrorCode.AssociationAuthFailed);
    const tag = f.slice();
    tag[16] = tag[16]! ^ 1;
    expect(codeOf(() => verifyHlsGmac({ ...p, response: tag }))).toBe(ErrorCode.AssociationAuthFailed);
    expect(codeOf(() => verifyHlsGmac({ ...p, response: f, authKey: EK }))).toBe(ErrorCode.AssociationAuthFailed);
  });
});

describe('HLS-SHA256 (mechanism 6)', () => {
  const p: HlsSha256Params = {
    secret: new TextEncoder().encode('secret'),
    clientSystemTitle: ST_C,
    serverSystemTitle: ST_S,
    ctos: fromHex('0102030405060708'),
    stoc: fromHex('1112131415161718'),
  };
  const sha = (hex: string): string => createHash('sha256').update(fromHex(hex)).digest('hex').toUpperCase();
  const secretHex = toHex(p.secret);

  it('client proof = SHA-256(secret ‖ ST-C ‖ ST-S ‖ StoC ‖ CtoS)', () => {
    expect(toHex(hlsSha256ClientResponse(p))).toBe(sha(secretHex + toHex(ST_C) + toHex(ST_S) + '1112131415161718' + '0102030405060708'));
  });

  it('server proof = SHA-256(secret ‖ ST-S ‖ ST-C ‖ CtoS ‖ StoC) and verifies', () => {
    const f = hlsSha256ServerResponse(p);
    expect(toHex(f)).toBe(sha(secretHex + toHex(ST_S) + toHex(ST_C) + '0102030405060708' + '1112131415161718'));
    expect(() => verifyHlsSha256ServerResponse({ ...p, response: f })).not.toThrow();
    expect(codeOf(() => verifyHlsSha256ServerResponse({ ...p, response: hlsSha256ClientResponse(p) }))).toBe(ErrorCode.AssociationAuthFailed);
    expect(codeOf(() => verifyHlsSha256ServerResponse({ ...p, response: f.subarray(1) }))).toBe(ErrorCode.AssociationAuthFailed);
  });

  it('rejects system titles that are not 8 bytes', () => {
    expect(codeOf(() => hlsSha256ClientResponse({ ...p, serverSystemTitle: ST_S.subarray(1) }))).toBe(ErrorCode.EncodeInvalid);
  });
});
