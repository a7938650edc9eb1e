import type { ConfirmedServiceError, ExceptionResponse } from '../apdu/errors';
import { describeConfirmedServiceError } from '../apdu/errors';
import { dataAccessResultName, type DataAccessResult } from '../apdu/results';
import { DcuError, ErrorCode } from '../common/errors';

export function exceptionError(e: ExceptionResponse): DcuError {
  const detail = e.serviceError.kind === 'invocation-counter-error' ? ` (meter expects invocation counter ${e.serviceError.invocationCounter})` : '';
  return new DcuError(ErrorCode.MeterException, `the meter answered exception-response: ${e.stateError}, ${e.serviceError.kind}${detail}`, {
    context: { stateError: e.stateError, serviceError: e.serviceError.kind },
  });
}

export function serviceError(e: ConfirmedServiceError): DcuError {
  return new DcuError(ErrorCode.MeterServiceError, `the meter answered confirmed-service-error: ${describeConfirmedServiceError(e)}`, {
    context: { service: e.service, errorType: e.errorType, value: e.value },
  });
}

export function dataAccessError(result: DataAccessResult, what: string): DcuError {
  return new DcuError(ErrorCode.MeterDataAccess, `the meter refused ${what}: ${dataAccessResultName(result)}`, {
    context: { result, resultName: dataAccessResultName(result) },
  });
}

export function unexpected(what: string, got: string): DcuError {
  return new DcuError(ErrorCode.FramingProtocol, `unexpected answer to ${what}: ${got}`);
}
