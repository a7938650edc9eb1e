/**
 * The progress line on a fake terminal and a FakeClock: it appears only once the work has
 * lasted a second, is redrawn in place (throttled), moves its elapsed seconds on its own,
 * steps aside for printed lines, is wiped at the end, and is silent when not a terminal.
 */
import { Progress, progressText } from '../../cli/progress';
import { FakeClock } from '../../protocol/common/clock';

const ERASE = '\r\x1b[2K';

function fakeTty(isTTY = true): { isTTY: boolean; columns: number; writes: string[]; write(t: string): boolean; screen(): string } {
  const writes: string[] = [];
  return {
    isTTY,
    columns: 60,
    writes,
    write(t: string) {
      writes.push(t);
      return true;
    },
    /** What the line shows now: the text after the last erase. */
    screen() {
      const all = writes.join('');
      return all.slice(all.lastIndexOf(ERASE) + ERASE.length);
    },
  };
}

describe('progress line', () => {
  it('formats counts, bars, bytes and cuts to the terminal width', () => {
    expect(progressText('read', { done: 3, total: 8, unit: 'meters' }, 12_345)).toBe('read [#######-------------] 3/8 meters  12 s');
    expect(progressText('export', { done: 1_234_567, unit: 'bytes', detail: '10234 rows' }, 3_000)).toBe('export 1.18 MiB, 10234 rows  3 s');
    expect(progressText('upload', { done: 512, total: 2048, unit: 'bytes' }, 0)).toBe('upload [#####---------------] 512 B/2.0 KiB  0 s');
    const cut = progressText('read', { done: 1, total: 2, unit: 'meters', detail: 'x'.repeat(100) }, 0, 40);
    expect(cut).toHaveLength(39);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('waits a second, redraws in place at most every 100 ms, ticks the elapsed time, wipes itself at the end', () => {
    const clock = new FakeClock();
    const tty = fakeTty();
    const bar = new Progress('read', { stream: tty, clock, hookProcess: false });
    bar.update({ done: 0, total: 4, unit: 'meters' });
    clock.advance(900);
    expect(tty.writes).toEqual([]); // a quick command shows nothing
    clock.advance(100);
    expect(tty.screen()).toBe('read [--------------------] 0/4 meters  1 s');
    bar.update({ done: 1, total: 4, unit: 'meters' });
    bar.update({ done: 2, total: 4, unit: 'meters' });
    expect(tty.writes).toHaveLength(1); // throttled: one draw per 100 ms
    clock.advance(100);
    expect(tty.writes).toHaveLength(2);
    expect(tty.screen()).toBe('read [##########----------] 2/4 meters  1 s');
    clock.advance(900); // nothing happens, the seconds still move
    expect(tty.screen()).toBe('read [##########----------] 2/4 meters  2 s');
    expect(tty.writes.every((w) => w.startsWith(ERASE) && !w.includes('\n'))).toBe(true); // always in place
    bar.finish();
    expect(tty.writes.at(-1)).toBe(ERASE);
    expect(clock.pending).toBe(0); // no timer left to keep the process alive
    bar.update({ done: 3, total: 4, unit: 'meters' });
    clock.advance(5000);
    expect(tty.writes.at(-1)).toBe(ERASE);
  });

  it('steps aside for a printed line and comes back below it', () => {
    const clock = new FakeClock();
    const tty = fakeTty();
    const bar = new Progress('plan', { stream: tty, clock, hookProcess: false });
    const printed: string[] = [];
    bar.above(() => printed.push('before the bar shows'));
    expect(tty.writes).toEqual([]);
    bar.update({ done: 0, total: 2, unit: 'meters' });
    clock.advance(1000);
    const n = tty.writes.length;
    bar.above(() => {
      expect(tty.writes.at(-1)).toBe(ERASE); // wiped before the line is printed
      printed.push('SIM000001 EXE');
    });
    expect(printed).toEqual(['before the bar shows', 'SIM000001 EXE']);
    expect(tty.writes.length).toBe(n + 2);
    expect(tty.screen()).toMatch(/^plan \[-+\] 0\/2 meters {2}1 s$/);
    bar.finish();
  });

  it('stays silent when the stream is not a terminal', () => {
    const clock = new FakeClock();
    const pipe = fakeTty(false);
    const bar = new Progress('read', { stream: pipe, clock, hookProcess: false });
    bar.update({ done: 1, total: 1, unit: 'meters' });
    clock.advance(10_000);
    let printed = false;
    bar.above(() => (printed = true));
    bar.finish();
    expect(printed).toBe(true);
    expect(pipe.writes).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
