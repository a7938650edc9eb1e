/**
 * Runs a promise to completion on a FakeClock: lets every pending continuation run, then
 * moves the clock to its next timer, until the promise settles or too much clock time passed
 * (a client that never gives up: 'hung').
 */
import type { FakeClock } from '../../protocol/common/clock';

export type Settled<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'error'; readonly error: unknown } | { readonly kind: 'hung' };

const idle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function settleOnClock<T>(clock: FakeClock, promise: Promise<T>, maxClockMs: number): Promise<Settled<T>> {
  let result: Settled<T> | undefined;
  promise.then(
    (value) => {
      result = { kind: 'ok', value };
    },
    (error: unknown) => {
      result = { kind: 'error', error };
    },
  );
  const start = clock.now();
  for (;;) {
    await idle();
    if (result !== undefined) return result;
    const at = clock.nextTimerAt();
    if (at === undefined || at - start > maxClockMs) return { kind: 'hung' };
    clock.advance(Math.max(0, at - clock.now()));
  }
}
