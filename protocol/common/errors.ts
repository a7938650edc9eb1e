/**
 * One error class for the whole stack. Codes are grouped by layer so a caller can narrow
 * with a guard (`isFramingError(e)`) without string matching. Context carries structured
 * facts (byte offset, expected tag, meter address) — never keys or passwords.
 */

export const ErrorCode = {
  // 1xx framing (HDLC, wrapper, splitter)
  FramingBadFcs: 100,
  FramingBadHcs: 101,
  FramingBadFormat: 102,
  FramingBadAddress: 103,
  FramingTooLong: 104,
  FramingUnexpectedFrame: 105,
  FramingProtocol: 106,
  /** The peer answers in the other framing (HDLC flag 7E vs wrapper header 00 01); context.detected names it. */
  FramingMismatch: 108,
  // 2xx decoding (A-XDR, BER, APDU)
  DecodeTruncated: 200,
  DecodeBadTag: 201,
  DecodeBadLength: 202,
  DecodeBadValue: 203,
  DecodeTrailingBytes: 204,
  EncodeInvalid: 210,
  // 3xx association and security
  AssociationRefused: 300,
  AssociationAuthFailed: 301,
  AssociationNotOpen: 302,
  AssociationReleased: 303,
  SecurityBadTag: 310,
  SecurityReplay: 311,
  SecurityBadKey: 312,
  SecurityUnsupported: 313,
  SecurityCounterExhausted: 314,
  // 4xx transport and timeout
  TransportClosed: 400,
  TransportOpenFailed: 401,
  TransportWriteFailed: 402,
  TransportVanished: 403,
  Timeout: 410,
  LinkRetriesExhausted: 411,
  LinkDisconnected: 412,
  ModeEFailed: 420,
  /** A request or an association ran past its overall deadline (the meter talked without progress). */
  DeadlineExceeded: 413,
  // 5xx meter-reported
  MeterException: 500,
  MeterServiceError: 501,
  MeterDataAccess: 502,
  MeterActionResult: 503,
  MeterBlockSequence: 504,
  MeterUnsupported: 505,
  /** Another meter answers at a registered meter's address (its serial number differs): collection is blocked. */
  MeterIdentityMismatch: 506,
  /** A push (data-/event-notification) from a meter the registry cannot identify. */
  MeterPushUnknown: 507,
  /** A push whose content is not a notification or carries nothing usable. */
  MeterPushContent: 508,
  // 6xx storage
  Storage: 600,
  StorageFull: 601,
  StorageTooNew: 602,
  /** SQLite says the store file is malformed (SQLITE_CORRUPT / SQLITE_NOTADB): nothing more is written on it. */
  StorageCorrupt: 603,
  /** Another dcud holds the state directory's lock (dcud.lock). */
  StorageLocked: 604,
  /** Meter secrets sealed at rest do not open: another key-encryption key, or a damaged value. */
  SealedSecrets: 605,
  // 7xx config
  Config: 700,
  // 8xx command / usage
  Usage: 800,
  UnknownObis: 801,
  UnknownClass: 802,
  InvalidValue: 803,
  JobCancelled: 804,
  JobDeadline: 805,
  UnknownCommand: 806,
  CommandExpired: 807,
  PayloadTooLarge: 808,
  UnknownMeter: 809,
  InvalidJson: 810,
  Conflict: 811,
  Unauthenticated: 812,
  Forbidden: 813,
  TooManyAttempts: 814,
  /** A firmware image or its manifest is refused (size, hash, signature, model): nothing is sent to meters. */
  ImageRejected: 815,
  Internal: 900,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type ErrorContext = Readonly<Record<string, string | number | boolean | undefined>>;

export interface DcuErrorOptions {
  readonly cause?: unknown;
  readonly context?: ErrorContext;
}

export class DcuError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: DcuErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DcuError';
    this.code = code;
    this.context = options.context ?? {};
  }

  /** Layer of the code: 'framing', 'decoding', ... */
  get layer(): ErrorLayer {
    return layerOf(this.code);
  }
}

export type ErrorLayer =
  | 'framing'
  | 'decoding'
  | 'association'
  | 'transport'
  | 'meter'
  | 'storage'
  | 'config'
  | 'command'
  | 'internal';

export function layerOf(code: ErrorCode): ErrorLayer {
  const hundred = Math.floor(code / 100);
  switch (hundred) {
    case 1:
      return 'framing';
    case 2:
      return 'decoding';
    case 3:
      return 'association';
    case 4:
      return 'transport';
    case 5:
      return 'meter';
    case 6:
      return 'storage';
    case 7:
      return 'config';
    case 8:
      return 'command';
    default:
      return 'internal';
  }
}

export function isDcuError(e: unknown): e is DcuError {
  return e instanceof DcuError;
}

function layerGuard(layer: ErrorLayer) {
  return (e: unknown): e is DcuError => e instanceof DcuError && e.layer === layer;
}

export const isFramingError = layerGuard('framing');
export const isDecodingError = layerGuard('decoding');
export const isAssociationError = layerGuard('association');
export const isTransportError = layerGuard('transport');
export const isMeterError = layerGuard('meter');
export const isStorageError = layerGuard('storage');
export const isConfigError = layerGuard('config');
export const isCommandError = layerGuard('command');

/** Shorthand for decode errors that name the offset and what was expected. */
export function decodeError(
  code: ErrorCode,
  offset: number,
  what: string,
  context: ErrorContext = {},
): DcuError {
  return new DcuError(code, `${what} at byte ${offset}`, { context: { offset, ...context } });
}

const CODE_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `-${c.toLowerCase()}`))]));

/** The code's name in kebab case, for machine-readable answers: 806 → "unknown-command". */
export function errorCodeName(code: number): string {
  return CODE_NAMES.get(code) ?? 'error';
}
