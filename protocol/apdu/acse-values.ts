import { invert } from './fields';

/**
 * Named values of the ACSE fields DLMS uses (IEC 62056-5-3 / Green Book):
 * application context names 2.16.756.5.8.1.x, mechanism names 2.16.756.5.8.2.x,
 * association result and result-source-diagnostic.
 */

export const APPLICATION_CONTEXT_PREFIX = [2, 16, 756, 5, 8, 1] as const;
export const MECHANISM_PREFIX = [2, 16, 756, 5, 8, 2] as const;

export const ApplicationContextName = {
  ln: 1,
  sn: 2,
  'ln-ciphering': 3,
  'sn-ciphering': 4,
} as const;
export type ApplicationContextName = keyof typeof ApplicationContextName;

/** Authentication mechanisms: 'none' is mechanism_id(0), lowest level security. */
export const MechanismName = {
  none: 0,
  lls: 1,
  hls: 2,
  'hls-md5': 3,
  'hls-sha1': 4,
  'hls-gmac': 5,
  'hls-sha256': 6,
  'hls-ecdsa': 7,
} as const;
export type MechanismName = keyof typeof MechanismName;

export const AssociationResult = {
  accepted: 0,
  'rejected-permanent': 1,
  'rejected-transient': 2,
} as const;
export type AssociationResult = keyof typeof AssociationResult;

export type DiagnosticSource = 'acse-service-user' | 'acse-service-provider';

/** Result-source-diagnostic: which side of ACSE answered, and its reason code. */
export interface ResultSourceDiagnostic {
  readonly source: DiagnosticSource;
  readonly value: number;
}

export const AcseServiceUserDiagnostic = {
  null: 0,
  'no-reason-given': 1,
  'application-context-name-not-supported': 2,
  'calling-ap-title-not-recognized': 3,
  'calling-ap-invocation-identifier-not-recognized': 4,
  'calling-ae-qualifier-not-recognized': 5,
  'calling-ae-invocation-identifier-not-recognized': 6,
  'called-ap-title-not-recognized': 7,
  'called-ap-invocation-identifier-not-recognized': 8,
  'called-ae-qualifier-not-recognized': 9,
  'called-ae-invocation-identifier-not-recognized': 10,
  'authentication-mechanism-name-not-recognised': 11,
  'authentication-mechanism-name-required': 12,
  'authentication-failure': 13,
  'authentication-required': 14,
} as const;

export const AcseServiceProviderDiagnostic = {
  null: 0,
  'no-reason-given': 1,
  'no-common-acse-version': 2,
} as const;

const USER_BY_VALUE = invert(AcseServiceUserDiagnostic);
const PROVIDER_BY_VALUE = invert(AcseServiceProviderDiagnostic);

/** 'acse-service-user: authentication-required' — for messages. */
export function describeDiagnostic(d: ResultSourceDiagnostic): string {
  const name = (d.source === 'acse-service-user' ? USER_BY_VALUE : PROVIDER_BY_VALUE).get(d.value);
  return `${d.source}: ${name ?? `unknown (${d.value})`}`;
}

/** Release-request-reason (RLRQ) and release-response-reason (RLRE). */
export const ReleaseRequestReason = { normal: 0, urgent: 1, 'user-defined': 30 } as const;
export const ReleaseResponseReason = { normal: 0, 'not-finished': 1, 'user-defined': 30 } as const;
