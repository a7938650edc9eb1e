/** Progress of `dcu probe … flash`: bar, 10 % lines, JSON lines; rate and ETA on a fake clock. */
import { FakeClock } from '../../../protocol/common/clock';
import { TransferProgress, formatDuration, renderBar } from '../../../cli/probe/progress';

function run(mode: 'tty' | 'lines' | 'json', alreadyBytes = 0) {
  const clock = new FakeClock(0);
  const out: string[] = [];
  const blocks = (1000 - alreadyBytes) / 100;
  const p = new TransferProgress(mode, (t) => out.push(t), clock, 1000, blocks, alreadyBytes);
  for (let i = 0; i < blocks; i++) {
    clock.advance(1000);
    p.block(i, 100);
  }
  p.end();
  return out;
}

it('prints a plain line per 10 % when not on a terminal', () => {
  const out = run('lines');
  expect(out).toHaveLength(10);
  expect(out[0]).toBe('10 %  100 B / 1000 B  100 B/s  ETA 0:09\n');
  expect(out[9]).toMatch(/^100 % {2}1000 B \/ 1000 B/);
});

it('counts the rate of this session only when resuming', () => {
  const out = run('json', 600);
  expect(out).toHaveLength(4);
  const first = JSON.parse(out[0] ?? '') as Record<string, unknown>;
  expect(first).toEqual({ event: 'progress', block: 0, bytes: 700, totalBytes: 1000, blocksSent: 1, blocksToSend: 4, percent: 70, rateBps: 100, etaS: 3 });
  expect(JSON.parse(out[3] ?? '')).toMatchObject({ percent: 100, etaS: 0, blocksSent: 4 });
});

it('redraws a bar in place on a terminal and ends its line', () => {
  const out = run('tty');
  expect(out[0]?.startsWith('\r[##')).toBe(true);
  expect(out.at(-2)).toMatch(/\[#{24}\] 100 %/);
  expect(out.at(-1)).toBe('\n');
});

it('renders bytes, rate and ETA', () => {
  expect(renderBar({ bytes: 100 * 1024, totalBytes: 256 * 1024, blocksSent: 1, blocksToSend: 2, percent: 39.1, rateBps: 1100, etaS: 145 })).toBe(
    '[#########...............]  39 %  100.0 KiB / 256.0 KiB  1.1 KiB/s  ETA 2:25',
  );
  expect(formatDuration(3725)).toBe('1:02:05');
});
