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

/** The DcuError code fn throws, undefined when it does not throw; anything else rethrows. */
export function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (isDcuError(e)) return e.code;
    throw e;
  }
  return undefined;
}

/** The DcuError code p rejects with, undefined when it resolves; anything else rethrows. */
export async function codeOfAsync(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (e) {
    if (isDcuError(e)) return e.code;
    throw e;
  }
  return undefined;
}
