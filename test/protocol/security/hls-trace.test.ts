/**
 * The HLS-GMAC suite-0 trace (vectors/ln-hdlc-hlsgmac-suite0-clock.log): every ciphered
 * APDU in both directions deciphers, every ciphered request re-encrypts byte for byte, and
 * both HLS proofs verify.
 */
import { fromHex, toHex } from '../../../protocol/common/hex';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { cipherApdu, decipherApdu, describeCipheredTag } from '../../../protocol/security/ciphered-apdu';
import { hlsGmacResponse, verifyHlsGmac } from '../../../protocol/security/hls';
import { policyOf } from '../../../protocol/security/security-control';
import { VECTOR_LOGS, vectorApdus } from '../../helpers/vector-apdus';

const EK = fromHex('000102030405060708090A0B0C0D0E0F');
const AK = fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF');
const CLIENT_ST = fromHex('4775727578313233'); // "Gurux123"
const METER_ST = fromHex('4142434445464748'); // "ABCDEFGH"

interface Apdu {
  readonly dir: 'TX' | 'RX';
  readonly bytes: Uint8Array;
}

/**
 * Value of the first BER TLV with `tag` among the top-level children of an ACSE APDU,
 * running to the end of the APDU: the meter's RLRE in this trace carries outer lengths one
 * short (63 24 … BE 22 04 21 …, should be 63 28 … BE 23), so trust only the innermost one.
 */
function acseField(apdu: Uint8Array, tag: number): Uint8Array | undefined {
  let i = 2; // skip ACSE tag + 1-byte length (all short form in this trace)
  while (i < apdu.length) {
    const t = apdu[i]!;
    const len = apdu[i + 1]!;
    if (t === tag) return apdu.subarray(i + 2);
    i += 2 + len;
  }
  return undefined;
}

/** Ciphered xDLMS APDUs: the APDU itself, or the octet string inside ACSE user-information. */
function cipheredOf(a: Apdu): Uint8Array | undefined {
  const tag = a.bytes[0]!;
  if (tag >= 0x60 && tag <= 0x63) {
    const ui = acseField(a.bytes, 0xbe);
    if (!ui) return undefined;
    expect(ui[0]).toBe(0x04);
    const inner = ui.subarray(2, 2 + ui[1]!);
    return describeCipheredTag(inner[0]!) ? inner : undefined;
  }
  return describeCipheredTag(tag) ? a.bytes : undefined;
}

// ---- the tests ------------------------------------------------------------------------

const apdus: Apdu[] = vectorApdus(VECTOR_LOGS.hls).map(({ dir, apdu }) => ({ dir, bytes: apdu }));
const ciphered = apdus.flatMap((a) => {
  const c = cipheredOf(a);
  return c ? [{ dir: a.dir, bytes: c }] : [];
});

function peerOf(dir: 'TX' | 'RX'): Uint8Array {
  return dir === 'TX' ? CLIENT_ST : METER_ST;
}

describe('HLS-GMAC suite 0 trace', () => {
  it('finds the ciphered APDUs of both directions', () => {
    const tags = ciphered.map((c) => `${c.dir}:${c.bytes[0]!.toString(16)}`);
    // AARQ glo-initiate, AARE glo-initiate-response, HLS action, 13 GETs, RLRQ/RLRE.
    expect(tags.slice(0, 4)).toEqual(['TX:21', 'RX:28', 'TX:cb', 'RX:cf']);
    expect(tags.filter((t) => t === 'TX:db')).toHaveLength(tags.filter((t) => t === 'RX:db').length);
    expect(tags.slice(-2)).toEqual(['TX:21', 'RX:28']);
    expect(ciphered.length).toBeGreaterThanOrEqual(10);
  });

  it.each(ciphered.map((c, i) => [i, c.dir, toHex(c.bytes.subarray(0, 1)), c] as const))(
    'APDU %i (%s, tag %s) deciphers with the sender system title',
    (_i, dir, _tag, c) => {
      const d = decipherApdu(c.bytes, { blockKey: EK, authKey: AK, peerSystemTitle: peerOf(dir) });
      expect(policyOf(d.securityControl)).toBe('auth-enc');
      if (d.general) expect(toHex(d.systemTitle!)).toBe(toHex(peerOf(dir)));
      const kind = describeCipheredTag(c.bytes[0]!)!;
      if (kind.plainTag !== undefined) expect(d.apdu[0]).toBe(kind.plainTag);
      else expect([0xc0, 0xc4]).toContain(d.apdu[0]);
    },
  );

  it('invocation counters strictly increase per direction', () => {
    for (const dir of ['TX', 'RX'] as const) {
      const ics = ciphered
        .filter((c) => c.dir === dir)
        .map((c) => decipherApdu(c.bytes, { blockKey: EK, authKey: AK, peerSystemTitle: peerOf(dir) }).invocationCounter);
      for (let i = 1; i < ics.length; i++) expect(ics[i]!).toBeGreaterThan(ics[i - 1]!);
    }
  });

  it.each(ciphered.filter((c) => c.dir === 'TX').map((c, i) => [i, c] as const))(
    'request %i re-encrypts byte for byte from plaintext, system title and counter',
    (_i, c) => {
      const d = decipherApdu(c.bytes, { blockKey: EK, authKey: AK, peerSystemTitle: CLIENT_ST });
      const again = cipherApdu(d.apdu, {
        policy: policyOf(d.securityControl),
        systemTitle: CLIENT_ST,
        invocationCounter: d.invocationCounter,
        blockKey: EK,
        authKey: AK,
        general: d.general,
      });
      expect(toHex(again)).toBe(toHex(c.bytes));
    },
  );

  describe('HLS pass 3 and 4', () => {
    const aarq = apdus.find((a) => a.dir === 'TX' && a.bytes[0] === 0x60 && acseField(a.bytes, 0xac))!;
    const aare = apdus.find((a) => a.dir === 'RX' && a.bytes[0] === 0x61 && acseField(a.bytes, 0xaa))!;
    const ctos = acseField(aarq.bytes, 0xac)!.subarray(2, 18); // 80 10 challenge(16)
    const stoc = acseField(aare.bytes, 0xaa)!.subarray(2, 18);
    const action = ciphered.find((c) => c.bytes[0] === 0xcb)!;
    const actionResp = ciphered.find((c) => c.bytes[0] === 0xcf)!;
    const req = decipherApdu(action.bytes, { blockKey: EK, authKey: AK, peerSystemTitle: CLIENT_ST }).apdu;
    const resp = decipherApdu(actionResp.bytes, { blockKey: EK, authKey: AK, peerSystemTitle: METER_ST }).apdu;
    // Both end in octet-string(17) = SC ‖ IC ‖ tag.
    const fStoC = req.subarray(req.length - 17);
    const fCtoS = resp.subarray(resp.length - 17);

    it('carries the proofs as octet-string(17) in method 1 of 0.0.40.0.0.255', () => {
      expect(toHex(req.subarray(0, 2))).toBe('C301'); // action-request-normal
      expect(toHex(req.subarray(3, 13))).toBe('000F0000280000FF0101'); // class 15, OBIS, method 1, params present
      expect(toHex(resp.subarray(0, 2))).toBe('C701');
      expect(toHex(req.subarray(req.length - 19, req.length - 17))).toBe('0911');
      expect(toHex(resp.subarray(resp.length - 19, resp.length - 17))).toBe('0911');
      expect(ctos).toHaveLength(16);
      expect(stoc).toHaveLength(16);
    });

    it("the client's f(StoC) verifies and recomputes byte for byte", () => {
      const { invocationCounter } = verifyHlsGmac({ response: fStoC, challenge: stoc, systemTitle: CLIENT_ST, blockKey: EK, authKey: AK });
      const again = hlsGmacResponse({ challenge: stoc, systemTitle: CLIENT_ST, invocationCounter, blockKey: EK, authKey: AK });
      expect(toHex(again)).toBe(toHex(fStoC));
      // The proof takes its own value from the sender's counter: AARQ 1, f(StoC) 2, action frame 3.
      expect(invocationCounter).toBe(2);
      expect(decipherApdu(action.bytes, { blockKey: EK, authKey: AK, peerSystemTitle: CLIENT_ST }).invocationCounter).toBe(3);
    });

    it("the meter's f(CtoS) verifies with the meter system title", () => {
      expect(() => verifyHlsGmac({ response: fCtoS, challenge: ctos, systemTitle: METER_ST, blockKey: EK, authKey: AK })).not.toThrow();
    });

    it('a wrong system title, key or challenge fails with AssociationAuthFailed', () => {
      const bad = [
        { response: fCtoS, challenge: ctos, systemTitle: CLIENT_ST, blockKey: EK, authKey: AK },
        { response: fCtoS, challenge: ctos, systemTitle: METER_ST, blockKey: AK, authKey: AK },
        { response: fCtoS, challenge: fromHex('00'.repeat(16)), systemTitle: METER_ST, blockKey: EK, authKey: AK },
      ];
      for (const p of bad) {
        try {
          verifyHlsGmac(p);
          throw new Error('verified');
        } catch (e) {
          expect(e).toBeInstanceOf(DcuError);
          expect((e as DcuError).code).toBe(ErrorCode.AssociationAuthFailed);
        }
      }
    });
  });
});
