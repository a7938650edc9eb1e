import type { ByteReader, ByteWriter } from '../common/bytes';
import { badTag, badValue, checkUint, expectApduTag, invert } from './fields';

export const EXCEPTION_RESPONSE = 0xd8;
export const CONFIRMED_SERVICE_ERROR = 0x0e;

// ---------------------------------------------------------------- exception-response (D8)

export const StateError = { 'service-not-allowed': 1, 'service-unknown': 2 } as const;
export type StateError = keyof typeof StateError;

export const ServiceErrorCode = {
  'operation-not-possible': 1,
  'service-not-supported': 2,
  'other-reason': 3,
  'pdu-too-long': 4,
  'deciphering-error': 5,
  'invocation-counter-error': 6,
} as const;

export type ExceptionServiceError =
  | { readonly kind: Exclude<keyof typeof ServiceErrorCode, 'invocation-counter-error'> }
  /** The meter's expected invocation counter. */
  | { readonly kind: 'invocation-counter-error'; readonly invocationCounter: number };

export interface ExceptionResponse {
  readonly type: 'exception-response';
  readonly stateError: StateError;
  readonly serviceError: ExceptionServiceError;
}

const STATE_BY_VALUE = invert(StateError);
const SERVICE_BY_VALUE = invert(ServiceErrorCode);

export function readExceptionResponse(r: ByteReader): ExceptionResponse {
  expectApduTag(r, EXCEPTION_RESPONSE, 'exception-response');
  let at = r.baseOffset + r.offset;
  const state = STATE_BY_VALUE.get(r.u8('state-error'));
  if (state === undefined) throw badValue(at, 'exception state-error');
  at = r.baseOffset + r.offset;
  const code = r.u8('service-error');
  const kind = SERVICE_BY_VALUE.get(code);
  if (kind === undefined) throw badTag(at, code, 'exception service-error');
  if (kind === 'invocation-counter-error') {
    return { type: 'exception-response', stateError: state, serviceError: { kind, invocationCounter: r.u32('invocation counter') } };
  }
  return { type: 'exception-response', stateError: state, serviceError: { kind } };
}

export function writeExceptionResponse(w: ByteWriter, a: ExceptionResponse): void {
  w.u8(EXCEPTION_RESPONSE).u8(StateError[a.stateError]).u8(ServiceErrorCode[a.serviceError.kind]);
  if (a.serviceError.kind === 'invocation-counter-error') {
    w.u32(checkUint(a.serviceError.invocationCounter, 0xffffffff, 'invocation counter'));
  }
}

// ---------------------------------------------------------------- confirmed-service-error (0E)

/** Which confirmed service failed (ConfirmedServiceError CHOICE tag). */
export const ConfirmedService = {
  initiate: 1,
  'get-status': 2,
  'get-name-list': 3,
  'get-variable-attribute': 4,
  read: 5,
  write: 6,
  'get-data-set-attribute': 7,
  'get-ti-attribute': 8,
  'change-scope': 9,
  start: 10,
  stop: 11,
  resume: 12,
  'make-usable': 13,
  'initiate-load': 14,
  'load-segment': 15,
  'terminate-load': 16,
  'initiate-upload': 17,
  'upload-segment': 18,
  'terminate-upload': 19,
} as const;
export type ConfirmedService = keyof typeof ConfirmedService;

/** ServiceError CHOICE tag: the group the error value belongs to. */
export const ServiceErrorType = {
  'application-reference': 0,
  'hardware-resource': 1,
  'vde-state-error': 2,
  service: 3,
  definition: 4,
  access: 5,
  initiate: 6,
  'load-data-set': 7,
  'change-scope': 8,
  task: 9,
  other: 10,
} as const;
export type ServiceErrorType = keyof typeof ServiceErrorType;

/** Names of the values of the groups a DLMS client meets (the rest print as numbers). */
export const SERVICE_ERROR_VALUE_NAMES: Readonly<Partial<Record<ServiceErrorType, readonly string[]>>> = {
  'application-reference': [
    'other',
    'time-elapsed',
    'application-unreachable',
    'application-reference-invalid',
    'application-context-unsupported',
    'provider-communication-error',
    'deciphering-error',
  ],
  'hardware-resource': ['other', 'memory-unavailable', 'processor-resource-unavailable', 'mass-storage-unavailable', 'other-resource-unavailable'],
  service: ['other', 'pdu-size', 'service-unsupported'],
  definition: ['other', 'object-undefined', 'object-class-inconsistent', 'object-attribute-inconsistent'],
  access: ['other', 'scope-of-access-violated', 'object-access-violated', 'hardware-fault', 'object-unavailable'],
  initiate: ['other', 'dlms-version-too-low', 'incompatible-conformance', 'pdu-size-too-short', 'refused-by-the-vde-handler'],
};

export interface ConfirmedServiceError {
  readonly type: 'confirmed-service-error';
  readonly service: ConfirmedService;
  readonly errorType: ServiceErrorType;
  readonly value: number;
}

const CS_BY_VALUE = invert(ConfirmedService);
const SET_BY_VALUE = invert(ServiceErrorType);

/** "initiate: initiate/dlms-version-too-low" — for error messages. */
export function describeConfirmedServiceError(e: ConfirmedServiceError): string {
  const name = SERVICE_ERROR_VALUE_NAMES[e.errorType]?.[e.value] ?? String(e.value);
  return `${e.service}: ${e.errorType}/${name}`;
}

export function readConfirmedServiceError(r: ByteReader): ConfirmedServiceError {
  expectApduTag(r, CONFIRMED_SERVICE_ERROR, 'confirmed-service-error');
  let at = r.baseOffset + r.offset;
  let b = r.u8('confirmed service');
  const service = CS_BY_VALUE.get(b);
  if (service === undefined) throw badTag(at, b, 'confirmed service');
  at = r.baseOffset + r.offset;
  b = r.u8('service error type');
  const errorType = SET_BY_VALUE.get(b);
  if (errorType === undefined) throw badTag(at, b, 'service error type');
  return { type: 'confirmed-service-error', service, errorType, value: r.u8('service error value') };
}

export function writeConfirmedServiceError(w: ByteWriter, a: ConfirmedServiceError): void {
  w.u8(CONFIRMED_SERVICE_ERROR).u8(ConfirmedService[a.service]).u8(ServiceErrorType[a.errorType]).u8(checkUint(a.value, 255, 'service error value'));
}
