import { FakeClock } from '../../protocol/common/clock';
import { PacedTransmitter } from '../../sim/pacing';

/** Records when (FakeClock time) each chunk reaches the other end. */
function recorder(clock: FakeClock) {
  const got: { at: number; n: number }[] = [];
  return { got, write: (b: Uint8Array) => (got.push({ at: clock.now(), n: b.length }), Promise.resolve()) };
}

async function drain(clock: FakeClock, done: Promise<void>): Promise<void> {
  const state = { finished: false };
  void done.then(() => (state.finished = true));
  for (let i = 0; i < 1000 && !state.finished; i++) {
    await new Promise((r) => setImmediate(r));
    const at = clock.nextTimerAt();
    if (at !== undefined) clock.advance(at - clock.now());
  }
  await done;
}

describe('PacedTransmitter on a FakeClock', () => {
  it('delivers each chunk once its last byte has left, at whole milliseconds', async () => {
    const clock = new FakeClock(0);
    const r = recorder(clock);
    const tx = new PacedTransmitter({ clock, baud: 9600, write: r.write });
    await drain(clock, tx.send(new Uint8Array(96), 20));
    // 9 bytes per 10 ms tick at 9,600 Bd (1.04 ms per byte); the last byte leaves at 20 + 100 ms.
    expect(r.got[0]).toEqual({ at: 20 + Math.ceil(9 * (10_000 / 9600)), n: 9 });
    expect(r.got.at(-1)?.at).toBe(120);
    expect(r.got.every((g) => Number.isInteger(g.at))).toBe(true);
    expect(r.got.reduce((s, g) => s + g.n, 0)).toBe(96);
    expect(tx.bytesSent).toBe(96);
  });

  it('with an infinite tick writes a burst whole when it has left, and the next after it', async () => {
    const clock = new FakeClock(0);
    const r = recorder(clock);
    const tx = new PacedTransmitter({ clock, baud: 9600, tickMs: Number.POSITIVE_INFINITY, write: r.write });
    const first = tx.send(new Uint8Array(96));
    const second = tx.send(new Uint8Array(48), 20);
    await drain(clock, Promise.all([first, second]).then(() => undefined));
    expect(r.got).toEqual([
      { at: 100, n: 96 },
      { at: 170, n: 48 },
    ]);
  });
});
