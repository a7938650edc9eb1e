import { ErrorCode } from '../../../protocol/common/errors';
import { MAX_COUNTER, MemoryCounterStore, ReplayGuard } from '../../../protocol/security/counters';
import { codeOf, codeOfAsync } from '../../helpers/dcu-error';

describe('MemoryCounterStore', () => {
  it('hands out consecutive values per key and honours advanceTo', async () => {
    const s = new MemoryCounterStore({ b: 10 });
    expect(await s.reserve('a')).toBe(0);
    expect(await s.reserve('a', 5)).toBe(1);
    expect(await s.reserve('a')).toBe(6);
    expect(await s.reserve('b')).toBe(10);
    await s.advanceTo('a', 100);
    await s.advanceTo('a', 50); // never goes back
    expect(await s.peek('a')).toBe(100);
    expect(await s.reserve('a')).toBe(100);
  });

  it('refuses to pass 2^32 - 1 and bad counts', async () => {
    const s = new MemoryCounterStore({ a: MAX_COUNTER });
    expect(await s.reserve('a')).toBe(MAX_COUNTER);
    expect(await codeOfAsync(s.reserve('a'))).toBe(ErrorCode.SecurityCounterExhausted);
    expect(codeOf(() => s.reserve('a', 0))).toBe(ErrorCode.InvalidValue);
  });
});

describe('ReplayGuard', () => {
  it('accepts strictly increasing counters and rejects replays', () => {
    const g = new ReplayGuard();
    g.accept('meter', 0);
    g.accept('meter', 3);
    expect(codeOf(() => g.accept('meter', 3))).toBe(ErrorCode.SecurityReplay);
    expect(codeOf(() => g.accept('meter', 2))).toBe(ErrorCode.SecurityReplay);
    g.accept('other', 1); // keys are independent
    g.accept('meter', 4);
    expect(g.lastAccepted('meter')).toBe(4);
  });

  it('check() does not record; forget() resets; initial state is honoured', () => {
    const g = new ReplayGuard({ meter: 10 });
    expect(codeOf(() => g.check('meter', 10))).toBe(ErrorCode.SecurityReplay);
    g.check('meter', 11);
    g.check('meter', 11);
    g.forget('meter');
    g.accept('meter', 0);
  });
});
