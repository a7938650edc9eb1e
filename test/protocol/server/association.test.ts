import { AcseServiceUserDiagnostic } from '../../../protocol/apdu/acse-values';
import { conformance, conformanceNames } from '../../../protocol/apdu/conformance';
import { FakeClock } from '../../../protocol/common/clock';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { DlmsServer } from '../../../protocol/server/server';
import { createMiniMeter, MINI_CLIENTS } from '../../helpers/mini-meter';
import { aarq, associate, attr, call, callRaw, get, session } from './harness';

const D = AcseServiceUserDiagnostic;

function server(faults: { rejectAssociations?: boolean } = {}, maxReceivePduSize = 512): DlmsServer {
  return new DlmsServer({ model: createMiniMeter().model, clients: MINI_CLIENTS, clock: new FakeClock(), limits: { maxReceivePduSize }, faults });
}

describe('DlmsServer association', () => {
  it('accepts the public client without authentication, granting the intersection and its PDU size', () => {
    const srv = server();
    const s = session(16);
    const aare = associate(srv, s, { conformance: conformance('get', 'set', 'general-protection', 'attribute0-supported-with-set'), maxPdu: 300 });
    expect(aare.result).toBe('accepted');
    expect(aare.diagnostic).toEqual({ source: 'acse-service-user', value: 0 });
    expect(aare.userInformation?.kind).toBe('initiate-response');
    if (aare.userInformation?.kind !== 'initiate-response') return;
    expect(conformanceNames(aare.userInformation.response.negotiatedConformance)).toEqual(['get', 'set']);
    expect(aare.userInformation.response.serverMaxReceivePduSize).toBe(512);
    expect(aare.userInformation.response.vaaName).toBe(7);
    expect(srv.association(s)?.maxSendPduSize).toBe(300);
  });

  it('answers the trace AARQ with the trace-shaped AARE', () => {
    const srv = server();
    const { bytes } = callRaw(srv, session(16), fromHex('601DA109060760857405080101BE10040E01000000065F1F0400401E1DFFFF'));
    // Same layout as the reference meter's answer; conformance differs (we offer more).
    expect(toHex(bytes.subarray(0, 35))).toBe('6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F04');
    expect(toHex(bytes.subarray(bytes.length - 4))).toBe('02000007');
  });

  it('accepts LLS with the right password', () => {
    expect(associate(server(), session(17), { mechanism: 'lls', password: 'Gurux' }).result).toBe('accepted');
  });

  it.each([
    ['wrong password', 17, { mechanism: 'lls' as const, password: 'nope' }, D['authentication-failure']],
    ['no mechanism for an LLS client', 17, {}, D['authentication-mechanism-name-required']],
    ['LLS without a password', 17, { mechanism: 'lls' as const }, D['authentication-required']],
    ['HLS asked of an LLS client', 17, { mechanism: 'hls-gmac' as const, password: 'x' }, D['authentication-mechanism-name-not-recognised']],
    ['LLS asked of a no-security client', 16, { mechanism: 'lls' as const, password: 'x' }, D['authentication-mechanism-name-not-recognised']],
    ['unknown client address', 99, {}, D['no-reason-given']],
  ])('rejects: %s', (_name, client, opts, diagnostic) => {
    const srv = server();
    const s = session(client);
    const aare = associate(srv, s, opts);
    expect(aare.result).toBe('rejected-permanent');
    expect(aare.diagnostic).toEqual({ source: 'acse-service-user', value: diagnostic });
    expect(srv.association(s)).toBeUndefined();
    const after = call(srv, s, get(attr(8, '0.0.1.0.0.255', 2)));
    expect(after).toEqual({ type: 'exception-response', stateError: 'service-not-allowed', serviceError: { kind: 'operation-not-possible' } });
  });

  it('rejects other application contexts', () => {
    const a = call(server(), session(16), { ...aarq(), applicationContext: 'sn' } as never);
    expect(a).toMatchObject({ type: 'aare', result: 'rejected-permanent', diagnostic: { value: D['application-context-name-not-supported'] } });
  });

  it('rejects everything when the fault hook says so', () => {
    expect(associate(server({ rejectAssociations: true }), session(16)).result).toBe('rejected-permanent');
  });

  it('rejects an old DLMS version, no common conformance and tiny PDUs with an initiate error', () => {
    const cases: [Parameters<typeof associate>[2], number][] = [
      [{ dlmsVersion: 5 }, 1],
      [{ conformance: conformance('general-protection') }, 2],
      [{ maxPdu: 8 }, 3],
    ];
    for (const [opts, value] of cases) {
      const aare = associate(server(), session(16), opts);
      expect(aare.result).toBe('rejected-permanent');
      expect(aare.userInformation).toEqual({
        kind: 'confirmed-service-error',
        error: { type: 'confirmed-service-error', service: 'initiate', errorType: 'initiate', value },
      });
    }
  });

  it('treats client max receive PDU 0 as no limit', () => {
    const srv = new DlmsServer({ model: createMiniMeter().model, clients: MINI_CLIENTS, clock: new FakeClock(), limits: { maxReceivePduSize: 2000 } });
    const s = session(16);
    associate(srv, s, { maxPdu: 0 });
    expect(srv.association(s)?.maxSendPduSize).toBe(2000);
  });

  it('answers a malformed AARQ with a rejecting AARE', () => {
    const { apdu } = callRaw(server(), session(16), fromHex('6005A1030601'));
    expect(apdu).toMatchObject({ type: 'aare', result: 'rejected-permanent', diagnostic: { source: 'acse-service-provider', value: 1 } });
  });

  it('RLRQ answers RLRE and drops the association; release() drops it too', () => {
    const srv = server();
    const s = session(16);
    associate(srv, s);
    const { bytes } = callRaw(srv, s, fromHex('6203800100'));
    expect(toHex(bytes)).toBe('6303800100');
    expect(srv.association(s)).toBeUndefined();
    expect(call(srv, s, get(attr(8, '0.0.1.0.0.255', 2))).type).toBe('exception-response');

    associate(srv, s);
    expect(call(srv, s, get(attr(8, '0.0.1.0.0.255', 2))).type).toBe('get-response');
    srv.release(s);
    expect(call(srv, s, get(attr(8, '0.0.1.0.0.255', 2))).type).toBe('exception-response');
  });

  it('keeps sessions apart', () => {
    const srv = server();
    const a = session(16);
    const b = session(16);
    associate(srv, a);
    expect(call(srv, a, get(attr(8, '0.0.1.0.0.255', 2))).type).toBe('get-response');
    expect(call(srv, b, get(attr(8, '0.0.1.0.0.255', 2))).type).toBe('exception-response');
  });
});
