/**
 * The meter's side of HLS-SHA256 (mechanism 6), driven APDU by APDU on a plain LN context
 * (mini meter client 3). The proofs are computed here with node:crypto directly, from the
 * Green Book definition, independently of protocol/security/hls.ts:
 *   f(StoC) = SHA-256(secret ‖ ST-C ‖ ST-S ‖ StoC ‖ CtoS)   (client → meter)
 *   f(CtoS) = SHA-256(secret ‖ ST-S ‖ ST-C ‖ CtoS ‖ StoC)   (meter → client)
 */
import { createHash } from 'node:crypto';
import type { Aarq } from '../../../protocol/apdu/aarq';
import { AcseServiceUserDiagnostic } from '../../../protocol/apdu/acse-values';
import { ActionResult } from '../../../protocol/apdu/results';
import { FakeClock } from '../../../protocol/common/clock';
import { ErrorCode } from '../../../protocol/common/errors';
import { fullAccessPolicy } from '../../../protocol/server/access';
import { DlmsServer } from '../../../protocol/server/server';
import { codeOf } from '../../helpers/dcu-error';
import { createMiniMeter, MINI_CLIENTS, MINI_SHA256 } from '../../helpers/mini-meter';
import { INVOKE, aarq, attr, call, session } from './harness';

const CTOS = Uint8Array.from({ length: 16 }, (_, i) => 0x40 + i);
const STOC = Uint8Array.from({ length: 16 }, (_, i) => 0x80 + i);
const sha = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(createHash('sha256').update(Buffer.concat(parts)).digest());
const { secret, clientSystemTitle: stc, meterSystemTitle: sts } = MINI_SHA256;
const CURRENT_ASSOCIATION = Uint8Array.of(0, 0, 40, 0, 0, 255);

function server(): DlmsServer {
  return new DlmsServer({ model: createMiniMeter().model, clients: MINI_CLIENTS, clock: new FakeClock(), random: (n) => STOC.slice(0, n) });
}

function shaAarq(over: Partial<Aarq> = {}): Aarq {
  const base = aarq({ mechanism: 'hls-sha256' });
  if (base.type !== 'aarq') throw new Error('aarq');
  return { ...base, callingApTitle: stc, callingAuthenticationValue: CTOS, ...over };
}

function reply(value: Uint8Array) {
  return { type: 'action-request', kind: 'normal', invoke: INVOKE, method: { classId: 15, instanceId: CURRENT_ASSOCIATION, methodId: 1 }, parameters: { type: 'octet-string', value } } as const;
}

describe('DlmsServer HLS-SHA256 without ciphering', () => {
  it('asks for authentication, checks f(StoC) and answers f(CtoS)', () => {
    const srv = server();
    const s = session(MINI_SHA256.plainClientAddress);
    const aare = call(srv, s, shaAarq());
    expect(aare).toMatchObject({
      type: 'aare',
      applicationContext: 'ln',
      result: 'accepted',
      diagnostic: { source: 'acse-service-user', value: AcseServiceUserDiagnostic['authentication-required'] },
      mechanism: 'hls-sha256',
      respondingApTitle: sts,
      respondingAuthenticationValue: STOC,
    });
    // Before pass 3, nothing but reply_to_HLS_authentication.
    expect(call(srv, s, { type: 'get-request', kind: 'normal', invoke: INVOKE, attribute: attr(3, '1.0.1.8.0.255', 2) })).toMatchObject({ type: 'exception-response' });
    const answer = call(srv, s, reply(sha(secret, stc, sts, STOC, CTOS)));
    expect(answer).toMatchObject({
      type: 'action-response',
      outcome: { result: ActionResult.success, returnParameters: { kind: 'data', data: { type: 'octet-string', value: sha(secret, sts, stc, CTOS, STOC) } } },
    });
    expect(call(srv, s, { type: 'get-request', kind: 'normal', invoke: INVOKE, attribute: attr(15, '0.0.40.0.0.255', 6) })).toMatchObject({
      type: 'get-response',
      result: { kind: 'data', data: { items: [{}, {}, {}, {}, {}, {}, { value: 6 }] } },
    });
  });

  it('refuses a reply with the parts in the other order, or a wrong secret', () => {
    for (const bad of [sha(secret, sts, stc, CTOS, STOC), sha(Uint8Array.of(1, 2, 3), stc, sts, STOC, CTOS), sha(secret, stc, sts, STOC, CTOS).subarray(1)]) {
      const srv = server();
      const s = session(MINI_SHA256.plainClientAddress);
      call(srv, s, shaAarq());
      expect(call(srv, s, reply(bad))).toMatchObject({ type: 'action-response', outcome: { result: ActionResult.readWriteDenied } });
      expect(call(srv, s, { type: 'get-request', kind: 'normal', invoke: INVOKE, attribute: attr(3, '1.0.1.8.0.255', 2) })).toMatchObject({ type: 'exception-response' });
    }
  });

  const withoutCtos = (): Aarq => {
    const a: { -readonly [K in keyof Aarq]: Aarq[K] } = shaAarq();
    delete a.callingAuthenticationValue;
    return a;
  };
  it.each([
    ['another mechanism', () => shaAarq({ mechanism: 'hls-gmac' }), 'authentication-mechanism-name-not-recognised'],
    ['no CtoS', withoutCtos, 'authentication-required'],
    ['a 7-byte calling AP title', () => shaAarq({ callingApTitle: stc.subarray(1) }), 'calling-ap-title-not-recognized'],
  ] as const)('rejects an AARQ with %s', (_what, make, diagnostic) => {
    expect(call(server(), session(MINI_SHA256.plainClientAddress), make())).toMatchObject({
      result: 'rejected-permanent',
      diagnostic: { value: AcseServiceUserDiagnostic[diagnostic] },
    });
  });

  it('refuses a configuration without the meter system title', () => {
    const clients = [{ clientAddress: 9, authentication: { mechanism: 'high-sha256' as const, secret }, access: fullAccessPolicy }];
    expect(codeOf(() => new DlmsServer({ model: createMiniMeter().model, clients, clock: new FakeClock() }))).toBe(ErrorCode.Config);
  });
});
