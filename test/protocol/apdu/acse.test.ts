import {
  type Aare,
  type Apdu,
  conformance,
  conformanceFromNumber,
  conformanceNames,
  conformanceToNumber,
  decodeApdu,
  decodeUserInformation,
  describeConfirmedServiceError,
  describeDiagnostic,
  encodeApdu,
  encodeUserInformation,
} from '../../../protocol/apdu';
import { ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { expectDcuError } from '../../helpers/dcu-error';
import { TRACE_CLIENT_CONFORMANCE } from '../../helpers/vector-apdus';

const roundTrip = (hex: string, value: Apdu): void => {
  expect(decodeApdu(fromHex(hex))).toEqual(value);
  expect(toHex(encodeApdu(value), ' ')).toBe(hex);
};

const LN_INITIATE = {
  responseAllowed: true,
  proposedDlmsVersion: 6,
  proposedConformance: conformanceFromNumber(0x401e1d),
  clientMaxReceivePduSize: 0xffff,
};

describe('AARQ', () => {
  it('no authentication (none trace)', () => {
    roundTrip('60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 1D FF FF', {
      type: 'aarq',
      applicationContext: 'ln',
      userInformation: { kind: 'initiate-request', request: LN_INITIATE },
    });
  });

  it('LLS with password (lls trace)', () => {
    const hex =
      '60 33 A1 09 06 07 60 85 74 05 08 01 01 8A 02 07 80 8B 07 60 85 74 05 08 02 01 AC 07 80 05 47 75 72 75 78 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 1D FF FF';
    roundTrip(hex, {
      type: 'aarq',
      applicationContext: 'ln',
      acseRequirements: { authentication: true },
      mechanism: 'lls',
      callingAuthenticationValue: Buffer.from('Gurux'),
      userInformation: { kind: 'initiate-request', request: LN_INITIATE },
    });
  });

  it('dedicated key, response-allowed false and QoS are encoded as A-XDR optionals', () => {
    const key = fromHex('000102030405060708090A0B0C0D0E0F');
    const ui = { kind: 'initiate-request' as const, request: { ...LN_INITIATE, dedicatedKey: key, responseAllowed: false, proposedQualityOfService: -1 } };
    const bytes = encodeUserInformation(ui);
    expect(toHex(bytes, ' ')).toBe('01 01 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 01 00 01 FF 06 5F 1F 04 00 40 1E 1D FF FF');
    expect(decodeUserInformation(bytes)).toEqual(ui);
    // An explicit response-allowed TRUE (01 01) decodes as the default.
    expect(decodeUserInformation(fromHex('01 00 01 01 00 06 5F 1F 04 00 40 1E 1D FF FF'))).toEqual({ kind: 'initiate-request', request: LN_INITIATE });
  });

  it('keeps elements it does not interpret and re-emits them in tag order', () => {
    // protocol-version 80 02 07 80, called-AP-title A2 03 04 01 AA, implementation-information BD 01 00
    const hex = '60 19 80 02 07 80 A1 09 06 07 60 85 74 05 08 01 01 A2 03 04 01 AA BD 03 04 01 00';
    const a = decodeApdu(fromHex(hex));
    expect(a).toMatchObject({ type: 'aarq', applicationContext: 'ln', protocolVersion: { unusedBits: 7, bytes: fromHex('80') } });
    if (a.type === 'aarq') expect(a.otherElements?.map((e) => e.tag.number)).toEqual([2, 29]);
    expect(toHex(encodeApdu(a), ' ')).toBe(hex);
  });

  it('refuses bad AARQs with typed errors', () => {
    expectDcuError(() => decodeApdu(fromHex('60 00')), ErrorCode.DecodeBadValue); // no application context
    expectDcuError(() => decodeApdu(fromHex('60 0B A1 09 06 07 60 85 74 05 08 01 09')), ErrorCode.DecodeBadValue, 4); // unknown context 9
    expectDcuError(() => decodeApdu(fromHex('60 0B A1 09 06 07 60 85 74 05 08 01')), ErrorCode.DecodeBadLength, 1); // truncated
    expectDcuError(() => decodeApdu(fromHex('60 80 00 00')), ErrorCode.DecodeBadLength, 1); // indefinite length
    expectDcuError(() => decodeApdu(fromHex('60 0B A1 09 06 07 60 85 74 05 08 01 01 00')), ErrorCode.DecodeTrailingBytes, 13);
    expectDcuError(() => decodeApdu(fromHex('60 0B 81 09 06 07 60 85 74 05 08 01 01')), ErrorCode.DecodeBadTag, 2); // primitive [1]
    expectDcuError(() => decodeApdu(fromHex('60 16 A1 09 06 07 60 85 74 05 08 01 01 A1 09 06 07 60 85 74 05 08 01 01')), ErrorCode.DecodeBadValue, 13);
    expectDcuError(() => decodeApdu(fromHex('60 14 A1 09 06 07 60 85 74 05 08 01 01 8B 07 60 85 74 05 08 02 08')), ErrorCode.DecodeBadValue, 13);
    // user-information that is not an OCTET STRING
    expectDcuError(() => decodeApdu(fromHex('60 11 A1 09 06 07 60 85 74 05 08 01 01 BE 04 03 02 00 01')), ErrorCode.DecodeBadTag, 15);
    // initiate request with trailing bytes inside user-information
    expectDcuError(
      () => decodeApdu(fromHex('60 1E A1 09 06 07 60 85 74 05 08 01 01 BE 11 04 0F 01 00 00 00 06 5F 1F 04 00 40 1E 1D FF FF 00')),
      ErrorCode.DecodeTrailingBytes,
      31,
    );
  });
});

describe('AARE', () => {
  it('accepted with InitiateResponse (none trace)', () => {
    const hex = '61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 00 18 02 00 00 07';
    roundTrip(hex, {
      type: 'aare',
      applicationContext: 'ln',
      result: 'accepted',
      diagnostic: { source: 'acse-service-user', value: 0 },
      userInformation: {
        kind: 'initiate-response',
        response: { negotiatedDlmsVersion: 6, negotiatedConformance: conformance('get', 'set'), serverMaxReceivePduSize: 0x200, vaaName: 7 },
      },
    });
  });

  it('rejected: authentication failure with a confirmed-service-error in user-information', () => {
    const hex = '61 1F A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 01 A3 05 A1 03 02 01 0D BE 06 04 04 0E 01 06 01';
    const aare: Aare = {
      type: 'aare',
      applicationContext: 'ln',
      result: 'rejected-permanent',
      diagnostic: { source: 'acse-service-user', value: 13 },
      userInformation: { kind: 'confirmed-service-error', error: { type: 'confirmed-service-error', service: 'initiate', errorType: 'initiate', value: 1 } },
    };
    roundTrip(hex, aare);
    expect(describeDiagnostic(aare.diagnostic)).toBe('acse-service-user: authentication-failure');
    if (aare.userInformation?.kind === 'confirmed-service-error') {
      expect(describeConfirmedServiceError(aare.userInformation.error)).toBe('initiate: initiate/dlms-version-too-low');
    }
  });

  it('provider diagnostic and an unknown user diagnostic are described', () => {
    roundTrip('61 17 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 02 A3 05 A2 03 02 01 02', {
      type: 'aare',
      applicationContext: 'ln',
      result: 'rejected-transient',
      diagnostic: { source: 'acse-service-provider', value: 2 },
    });
    expect(describeDiagnostic({ source: 'acse-service-provider', value: 2 })).toBe('acse-service-provider: no-common-acse-version');
    expect(describeDiagnostic({ source: 'acse-service-user', value: 99 })).toBe('acse-service-user: unknown (99)');
  });

  it('refuses AAREs without result or diagnostic, or with bad values', () => {
    expectDcuError(() => decodeApdu(fromHex('61 0B A1 09 06 07 60 85 74 05 08 01 01')), ErrorCode.DecodeBadValue, 0);
    expectDcuError(() => decodeApdu(fromHex('61 10 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00')), ErrorCode.DecodeBadValue, 0);
    expectDcuError(() => decodeApdu(fromHex('61 17 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 07 A3 05 A1 03 02 01 00')), ErrorCode.DecodeBadValue, 13);
    expectDcuError(() => decodeApdu(fromHex('61 17 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A5 03 02 01 00')), ErrorCode.DecodeBadTag, 20);
  });
});

describe('RLRQ / RLRE', () => {
  it('reason only', () => {
    roundTrip('62 03 80 01 00', { type: 'rlrq', reason: 0 });
    roundTrip('63 03 80 01 00', { type: 'rlre', reason: 0 });
    roundTrip('62 00', { type: 'rlrq' });
  });

  it('ciphered user-information stays raw', () => {
    const glo = '21 04 30 00 00 00';
    roundTrip(`62 0B 80 01 00 BE 06 04 04 ${glo.slice(0, 11)}`, { type: 'rlrq', reason: 0, userInformation: { kind: 'raw', bytes: fromHex('21 04 30 00') } });
  });

  it('refuses bad release APDUs', () => {
    expectDcuError(() => decodeApdu(fromHex('62 03 A0 01 00')), ErrorCode.DecodeBadTag, 2);
    expectDcuError(() => decodeApdu(fromHex('63 03 80 00')), ErrorCode.DecodeBadLength, 1);
    expectDcuError(() => decodeApdu(fromHex('63 03 80 01 00 00')), ErrorCode.DecodeTrailingBytes, 5);
    expectDcuError(() => decodeApdu(fromHex('62 06 80 01 00 80 01 01')), ErrorCode.DecodeBadValue, 5);
  });
});

describe('conformance', () => {
  it('names the bits of 0x401E1D and converts both ways', () => {
    const c = conformanceFromNumber(0x401e1d);
    expect(conformanceNames(c)).toEqual(TRACE_CLIENT_CONFORMANCE);
    expect(conformanceToNumber(c)).toBe(0x401e1d);
    expect(conformanceToNumber(conformance('reserved-zero'))).toBe(0x800000);
    expect(conformanceToNumber(conformance('action'))).toBe(1);
  });

  it('refuses a conformance block that is not 3 bytes', () => {
    expectDcuError(() => decodeUserInformation(fromHex('08 00 06 5F 1F 03 00 00 18 02 00 00 07')), ErrorCode.DecodeBadValue, 6);
    expectDcuError(() => decodeUserInformation(fromHex('08 00 06 9F 1F 04 00 00 00 18 02 00 00 07')), ErrorCode.DecodeBadTag, 3);
    expectDcuError(() => decodeUserInformation(new Uint8Array(0), 9), ErrorCode.DecodeTruncated, 9);
  });
});
