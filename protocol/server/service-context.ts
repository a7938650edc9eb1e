import type { ExceptionResponse } from '../apdu/errors';
import type { ConformanceBit } from '../apdu/conformance';
import type { ServerObject, RequestContext } from './object';
import type { Association, SessionState } from './state';

/** What a service handler needs for one request. */
export interface ServiceContext {
  readonly state: SessionState;
  readonly association: Association;
  readonly request: RequestContext;
  /** Largest request reassembled from blocks (DlmsServerLimits.maxReassembledBytes). */
  readonly maxReassembledBytes?: number;
  /** Object by class and 6-byte instance id (model first, then the server's own objects). */
  find(classId: number, instanceId: Uint8Array): ServerObject | undefined;
}

export function granted(s: ServiceContext, bit: ConformanceBit): boolean {
  return s.association.conformance.has(bit);
}

/** A service (or variant) the association did not negotiate. */
export const NOT_NEGOTIATED: ExceptionResponse = {
  type: 'exception-response',
  stateError: 'service-not-allowed',
  serviceError: { kind: 'service-not-supported' },
};
