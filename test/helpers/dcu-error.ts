import { type DcuError, isDcuError } from '../../protocol/common/errors';

/** Runs fn and asserts it throws a DcuError with `code` (and, if given, context.offset). */
export function expectDcuError(fn: () => unknown, code: number, offset?: number): DcuError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (!isDcuError(err)) throw new Error(`expected a DcuError ${code}, got ${err instanceof Error ? err.message : "no error"}`);
  expect({ code: err.code, message: err.message }).toEqual({ code, message: err.message });
  if (offset !== undefined) expect({ offset: err.context.offset, message: err.message }).toEqual({ offset, message: err.message });
  return err;
}

/** Awaits fn and asserts it rejects with a DcuError with `code`. */
export async function expectDcuErrorAsync(fn: () => Promise<unknown>, code: number): Promise<DcuError> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (!isDcuError(err)) throw new Error(`expected a DcuError ${code}, got ${err instanceof Error ? err.message : 'no error'}`);
  expect({ code: err.code, message: err.message }).toEqual({ code, message: err.message });
  return err;
}
