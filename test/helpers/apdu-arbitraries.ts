import fc from 'fast-check';
import type { Apdu } from '../../protocol/apdu';
import {
  type AccessSelection,
  ActionResult,
  type ActionOutcome,
  ApplicationContextName,
  type AttributeDescriptor,
  type AttributeWithSelection,
  CONFORMANCE_BITS,
  ConfirmedService,
  type Conformance,
  DataAccessResult,
  type DataBlock,
  type GetDataResult,
  type InitiateRequest,
  type InitiateResponse,
  type InvokeIdAndPriority,
  type LongInvokeIdAndPriority,
  MechanismName,
  type MethodDescriptor,
  ServiceErrorCode,
  ServiceErrorType,
  StateError,
  type UserInformation,
} from '../../protocol/apdu';
import { arbData, arbDateTime } from './arbitraries';

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i8 = fc.integer({ min: -128, max: 127 });
const bytes = (max = 40): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
const obis = fc.uint8Array({ minLength: 6, maxLength: 6 });
const keysOf = <T extends object>(o: T): fc.Arbitrary<keyof T> => fc.constantFrom(...(Object.keys(o) as (keyof T)[]));
const valuesOf = <T extends Record<string, number>>(o: T): fc.Arbitrary<T[keyof T]> => fc.constantFrom(...(Object.values(o) as T[keyof T][]));
/** An optional field that is absent (not undefined) when not drawn. */
const opt = <K extends string, T>(key: K, a: fc.Arbitrary<T>): fc.Arbitrary<Partial<Record<K, T>>> =>
  fc.option(a, { nil: undefined }).map((v): Partial<Record<K, T>> => {
    const out: Partial<Record<K, T>> = {};
    if (v !== undefined) out[key] = v;
    return out;
  });

export const arbInvoke: fc.Arbitrary<InvokeIdAndPriority> = fc.record({
  invokeId: fc.integer({ min: 0, max: 15 }),
  confirmed: fc.boolean(),
  highPriority: fc.boolean(),
});

export const arbLongInvoke: fc.Arbitrary<LongInvokeIdAndPriority> = fc.record({
  invokeId: fc.integer({ min: 0, max: 0xffffff }),
  selfDescriptive: fc.boolean(),
  breakOnError: fc.boolean(),
  confirmed: fc.boolean(),
  highPriority: fc.boolean(),
});

export const arbAttribute: fc.Arbitrary<AttributeDescriptor> = fc.record({ classId: u16, instanceId: obis, attributeId: i8 });
export const arbMethod: fc.Arbitrary<MethodDescriptor> = fc.record({ classId: u16, instanceId: obis, methodId: i8 });
export const arbAccess: fc.Arbitrary<AccessSelection> = fc.record({ selector: u8, parameters: arbData });
export const arbAttributeWithSelection: fc.Arbitrary<AttributeWithSelection> = fc
  .tuple(arbAttribute, opt('access', arbAccess))
  .map(([attribute, rest]) => ({ attribute, ...rest }));
export const arbDar = valuesOf(DataAccessResult);
export const arbActionResult = valuesOf(ActionResult);
export const arbGetDataResult: fc.Arbitrary<GetDataResult> = fc.oneof(
  arbData.map((data): GetDataResult => ({ kind: 'data', data })),
  arbDar.map((error): GetDataResult => ({ kind: 'error', error })),
);
export const arbBlock: fc.Arbitrary<DataBlock> = fc.record({ lastBlock: fc.boolean(), blockNumber: u32, raw: bytes(200) });
const arbOutcome: fc.Arbitrary<ActionOutcome> = fc
  .tuple(arbActionResult, opt('returnParameters', arbGetDataResult))
  .map(([result, rest]) => ({ result, ...rest }));

export const arbConformance: fc.Arbitrary<Conformance> = fc.subarray([...CONFORMANCE_BITS]).map((bits) => new Set(bits));

export const arbInitiateRequest: fc.Arbitrary<InitiateRequest> = fc
  .tuple(opt('dedicatedKey', fc.uint8Array({ minLength: 16, maxLength: 32 })), opt('proposedQualityOfService', i8), fc.boolean(), u8, arbConformance, u16)
  .map(([key, qos, responseAllowed, proposedDlmsVersion, proposedConformance, clientMaxReceivePduSize]) => ({
    ...key,
    responseAllowed,
    ...qos,
    proposedDlmsVersion,
    proposedConformance,
    clientMaxReceivePduSize,
  }));

export const arbInitiateResponse: fc.Arbitrary<InitiateResponse> = fc
  .tuple(opt('negotiatedQualityOfService', i8), u8, arbConformance, u16, u16)
  .map(([qos, negotiatedDlmsVersion, negotiatedConformance, serverMaxReceivePduSize, vaaName]) => ({
    ...qos,
    negotiatedDlmsVersion,
    negotiatedConformance,
    serverMaxReceivePduSize,
    vaaName,
  }));

const arbCse = fc.record({
  type: fc.constant('confirmed-service-error' as const),
  service: keysOf(ConfirmedService),
  errorType: keysOf(ServiceErrorType),
  value: u8,
});

export const arbUserInformation: fc.Arbitrary<UserInformation> = fc.oneof(
  arbInitiateRequest.map((request): UserInformation => ({ kind: 'initiate-request', request })),
  arbInitiateResponse.map((response): UserInformation => ({ kind: 'initiate-response', response })),
  arbCse.map((error): UserInformation => ({ kind: 'confirmed-service-error', error })),
  // Ciphered glo-/ded-initiate: kept raw.
  fc.tuple(fc.constantFrom(0x21, 0x28, 0x41, 0x48), bytes(60)).map(([tag, b]): UserInformation => ({ kind: 'raw', bytes: Uint8Array.of(tag, ...b) })),
);

const arbAcseReq = fc.boolean().map((authentication) => ({ authentication }));
const arbProtocolVersion = fc.constant({ unusedBits: 7, bytes: Uint8Array.of(0x80) });

export const arbAarq: fc.Arbitrary<Apdu> = fc
  .tuple(
    keysOf(ApplicationContextName),
    opt('protocolVersion', arbProtocolVersion),
    opt('callingApTitle', fc.uint8Array({ minLength: 8, maxLength: 8 })),
    opt('callingAeQualifier', bytes(200)),
    opt('acseRequirements', arbAcseReq),
    opt('mechanism', keysOf(MechanismName)),
    opt('callingAuthenticationValue', bytes(64)),
    opt('userInformation', arbUserInformation),
  )
  .map(([applicationContext, ...rest]) => Object.assign({ type: 'aarq' as const, applicationContext }, ...rest) as Apdu);

export const arbAare: fc.Arbitrary<Apdu> = fc
  .tuple(
    keysOf(ApplicationContextName),
    fc.constantFrom('accepted', 'rejected-permanent', 'rejected-transient' as const),
    fc.record({ source: fc.constantFrom('acse-service-user' as const, 'acse-service-provider' as const), value: fc.integer({ min: 0, max: 14 }) }),
    opt('protocolVersion', arbProtocolVersion),
    opt('respondingApTitle', fc.uint8Array({ minLength: 8, maxLength: 8 })),
    opt('acseRequirements', arbAcseReq),
    opt('mechanism', keysOf(MechanismName)),
    opt('respondingAuthenticationValue', bytes(64)),
    opt('userInformation', arbUserInformation),
  )
  .map(([applicationContext, result, diagnostic, ...rest]) => Object.assign({ type: 'aare' as const, applicationContext, result, diagnostic }, ...rest) as Apdu);

const release = (type: 'rlrq' | 'rlre'): fc.Arbitrary<Apdu> =>
  fc
    .tuple(opt('reason', fc.constantFrom(0, 1, 30)), opt('userInformation', arbUserInformation))
    .map(([reason, ui]) => ({ type, ...reason, ...ui }));

const withAccess = <T extends object>(base: T, access: AccessSelection | undefined): T => (access === undefined ? base : { ...base, access });
const optAccess = fc.option(arbAccess, { nil: undefined });

export const arbGetRequest: fc.Arbitrary<Apdu> = fc.oneof(
  fc.tuple(arbInvoke, arbAttribute, optAccess).map(([invoke, attribute, access]) => withAccess({ type: 'get-request', kind: 'normal', invoke, attribute }, access) as Apdu),
  fc.tuple(arbInvoke, u32).map(([invoke, blockNumber]): Apdu => ({ type: 'get-request', kind: 'next', invoke, blockNumber })),
  fc.tuple(arbInvoke, fc.array(arbAttributeWithSelection, { maxLength: 4 })).map(([invoke, attributes]): Apdu => ({ type: 'get-request', kind: 'with-list', invoke, attributes })),
);

export const arbGetResponse: fc.Arbitrary<Apdu> = fc.oneof(
  fc.tuple(arbInvoke, arbGetDataResult).map(([invoke, result]): Apdu => ({ type: 'get-response', kind: 'normal', invoke, result })),
  fc
    .tuple(arbInvoke, fc.boolean(), u32, fc.oneof(bytes(300).map((raw) => ({ kind: 'raw' as const, raw })), arbDar.map((error) => ({ kind: 'error' as const, error }))))
    .map(([invoke, lastBlock, blockNumber, result]): Apdu => ({ type: 'get-response', kind: 'with-datablock', invoke, lastBlock, blockNumber, result })),
  fc.tuple(arbInvoke, fc.array(arbGetDataResult, { maxLength: 4 })).map(([invoke, results]): Apdu => ({ type: 'get-response', kind: 'with-list', invoke, results })),
);

export const arbSetRequest: fc.Arbitrary<Apdu> = fc.oneof(
  fc.tuple(arbInvoke, arbAttribute, optAccess, arbData).map(([invoke, attribute, access, value]) => withAccess({ type: 'set-request', kind: 'normal', invoke, attribute, value }, access) as Apdu),
  fc
    .tuple(arbInvoke, arbAttribute, optAccess, arbBlock)
    .map(([invoke, attribute, access, block]) => withAccess({ type: 'set-request', kind: 'with-first-datablock', invoke, attribute, block }, access) as Apdu),
  fc.tuple(arbInvoke, arbBlock).map(([invoke, block]): Apdu => ({ type: 'set-request', kind: 'with-datablock', invoke, block })),
  fc
    .tuple(arbInvoke, fc.array(arbAttributeWithSelection, { maxLength: 3 }), fc.array(arbData, { maxLength: 3 }))
    .map(([invoke, attributes, values]): Apdu => ({ type: 'set-request', kind: 'with-list', invoke, attributes, values })),
  fc
    .tuple(arbInvoke, fc.array(arbAttributeWithSelection, { maxLength: 3 }), arbBlock)
    .map(([invoke, attributes, block]): Apdu => ({ type: 'set-request', kind: 'with-list-and-first-datablock', invoke, attributes, block })),
);

export const arbSetResponse: fc.Arbitrary<Apdu> = fc.oneof(
  fc.tuple(arbInvoke, arbDar).map(([invoke, result]): Apdu => ({ type: 'set-response', kind: 'normal', invoke, result })),
  fc.tuple(arbInvoke, u32).map(([invoke, blockNumber]): Apdu => ({ type: 'set-response', kind: 'datablock', invoke, blockNumber })),
  fc.tuple(arbInvoke, arbDar, u32).map(([invoke, result, blockNumber]): Apdu => ({ type: 'set-response', kind: 'last-datablock', invoke, result, blockNumber })),
  fc
    .tuple(arbInvoke, fc.array(arbDar, { maxLength: 5 }), u32)
    .map(([invoke, results, blockNumber]): Apdu => ({ type: 'set-response', kind: 'last-datablock-with-list', invoke, results, blockNumber })),
  fc.tuple(arbInvoke, fc.array(arbDar, { maxLength: 5 })).map(([invoke, results]): Apdu => ({ type: 'set-response', kind: 'with-list', invoke, results })),
);

export const arbActionRequest: fc.Arbitrary<Apdu> = fc.oneof(
  fc
    .tuple(arbInvoke, arbMethod, fc.option(arbData, { nil: undefined }))
    .map(([invoke, method, parameters]): Apdu => ({ type: 'action-request', kind: 'normal', invoke, method, ...(parameters === undefined ? {} : { parameters }) })),
  fc.tuple(arbInvoke, u32).map(([invoke, blockNumber]): Apdu => ({ type: 'action-request', kind: 'next-pblock', invoke, blockNumber })),
  fc
    .tuple(arbInvoke, fc.array(arbMethod, { maxLength: 3 }), fc.array(arbData, { maxLength: 3 }))
    .map(([invoke, methods, parameters]): Apdu => ({ type: 'action-request', kind: 'with-list', invoke, methods, parameters })),
  fc.tuple(arbInvoke, arbMethod, arbBlock).map(([invoke, method, block]): Apdu => ({ type: 'action-request', kind: 'with-first-pblock', invoke, method, block })),
  fc
    .tuple(arbInvoke, fc.array(arbMethod, { maxLength: 3 }), arbBlock)
    .map(([invoke, methods, block]): Apdu => ({ type: 'action-request', kind: 'with-list-and-first-pblock', invoke, methods, block })),
  fc.tuple(arbInvoke, arbBlock).map(([invoke, block]): Apdu => ({ type: 'action-request', kind: 'with-pblock', invoke, block })),
);

export const arbActionResponse: fc.Arbitrary<Apdu> = fc.oneof(
  fc.tuple(arbInvoke, arbOutcome).map(([invoke, outcome]): Apdu => ({ type: 'action-response', kind: 'normal', invoke, outcome })),
  fc.tuple(arbInvoke, arbBlock).map(([invoke, block]): Apdu => ({ type: 'action-response', kind: 'with-pblock', invoke, block })),
  fc.tuple(arbInvoke, fc.array(arbOutcome, { maxLength: 3 })).map(([invoke, outcomes]): Apdu => ({ type: 'action-response', kind: 'with-list', invoke, outcomes })),
  fc.tuple(arbInvoke, u32).map(([invoke, blockNumber]): Apdu => ({ type: 'action-response', kind: 'next-pblock', invoke, blockNumber })),
);

export const arbExceptionResponse: fc.Arbitrary<Apdu> = fc
  .tuple(keysOf(StateError), keysOf(ServiceErrorCode), u32)
  .map(([stateError, kind, invocationCounter]) => ({
    type: 'exception-response',
    stateError,
    serviceError: kind === 'invocation-counter-error' ? { kind, invocationCounter } : { kind },
  }));

export const arbNotification: fc.Arbitrary<Apdu> = fc.oneof(
  fc
    .tuple(arbLongInvoke, fc.option(arbDateTime, { nil: undefined }), arbData)
    .map(([invoke, dateTime, body]): Apdu => ({ type: 'data-notification', invoke, ...(dateTime === undefined ? {} : { dateTime }), body })),
  fc
    .tuple(fc.option(arbDateTime, { nil: undefined }), arbAttribute, arbData)
    .map(([time, attribute, value]): Apdu => ({ type: 'event-notification', ...(time === undefined ? {} : { time }), attribute, value })),
);

export const arbGbt: fc.Arbitrary<Apdu> = fc.record({
  type: fc.constant('general-block-transfer' as const),
  lastBlock: fc.boolean(),
  streaming: fc.boolean(),
  window: fc.integer({ min: 0, max: 63 }),
  blockNumber: u16,
  blockNumberAck: u16,
  data: bytes(300),
});

/** A ciphered APDU with a well-formed outer length (service-specific or general-glo). */
export const arbCiphered: fc.Arbitrary<Apdu> = fc.oneof(
  fc.tuple(fc.constantFrom(0x21, 0x28, 0xc8, 0xcc, 0xcb, 0xcf, 0xd0, 0xd4), bytes(200)).map(([tag, body]): Apdu => {
    const len = body.length < 0x80 ? [body.length] : [0x81, body.length];
    return { type: 'ciphered', tag, bytes: Uint8Array.of(tag, ...len, ...body) };
  }),
  fc.tuple(fc.constantFrom(0xdb, 0xdc), fc.uint8Array({ minLength: 8, maxLength: 8 }), bytes(100)).map(([tag, st, body]): Apdu => ({
    type: 'ciphered',
    tag,
    bytes: Uint8Array.of(tag, 8, ...st, body.length, ...body),
  })),
);

export const APDU_FAMILIES: Readonly<Record<string, fc.Arbitrary<Apdu>>> = {
  aarq: arbAarq,
  aare: arbAare,
  rlrq: release('rlrq'),
  rlre: release('rlre'),
  'get-request': arbGetRequest,
  'get-response': arbGetResponse,
  'set-request': arbSetRequest,
  'set-response': arbSetResponse,
  'action-request': arbActionRequest,
  'action-response': arbActionResponse,
  'exception-response': arbExceptionResponse,
  'confirmed-service-error': arbCse,
  notification: arbNotification,
  'general-block-transfer': arbGbt,
  ciphered: arbCiphered,
};

export const arbApdu: fc.Arbitrary<Apdu> = fc.oneof(...Object.values(APDU_FAMILIES));
