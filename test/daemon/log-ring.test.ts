/**
 * The daemon's recent log lines: bounded by lines and bytes, filtered by time and level,
 * followed live, and scrubbed of anything named like a key, password, secret or token, even
 * deeper than pino's path redaction reaches.
 */
import { LogRing } from '../../daemon/log-ring';
import { createLogger, logRingOf } from '../../daemon/log';
import { nullLogger } from '../../protocol/common/log';

const line = (level: number, time: number, msg: string, extra: object = {}): string => `${JSON.stringify({ level, time, msg, ...extra })}\n`;

describe('LogRing', () => {
  it('keeps nothing until enabled, then the newest lines within its bounds', () => {
    const ring = new LogRing(3, 1_000_000);
    ring.push(line(30, 1, 'before'));
    expect(ring.size).toBe(0);
    ring.enabled = true;
    ring.push(line(30, 1, 'a') + line(40, 2, 'b'));
    ring.push(line(50, 3, 'c'));
    ring.push(line(30, 4, 'd'));
    expect(ring.query().map((l) => l.msg)).toEqual(['b', 'c', 'd']);
    const small = new LogRing(100, 120);
    small.enabled = true;
    for (let i = 0; i < 10; i++) small.push(line(30, i, `line ${i}`));
    expect(small.size).toBeLessThan(10);
    expect(small.query().at(-1)?.msg).toBe('line 9');
  });

  it('filters by time, level and limit; follows new lines at a level', () => {
    const ring = new LogRing();
    ring.enabled = true;
    for (let i = 0; i < 6; i++) ring.push(line(i % 2 === 0 ? 30 : 40, 1000 + i, `m${i}`));
    expect(ring.query({ since: 1003 }).map((l) => l.msg)).toEqual(['m3', 'm4', 'm5']);
    expect(ring.query({ level: 'warn' }).map((l) => l.msg)).toEqual(['m1', 'm3', 'm5']);
    expect(ring.query({ limit: 2 }).map((l) => l.msg)).toEqual(['m4', 'm5']);
    const seen: string[] = [];
    const off = ring.follow('warn', (l) => seen.push(String(l.msg)));
    ring.push(line(30, 2000, 'info'));
    ring.push(line(50, 2001, 'error'));
    off();
    ring.push(line(50, 2002, 'after'));
    expect(seen).toEqual(['error']);
  });

  it('scrubs keys, passwords and tokens at any depth; keeps a non-JSON line as text', () => {
    const ring = new LogRing();
    ring.enabled = true;
    ring.push(line(30, 1, 'meter', { meter: { creds: { auth: { blockKey: '000102030405060708090A0B0C0D0E0F', password: '12345678' } } }, token: 'dcu_tech_abc', authorization: 'Bearer x' }));
    ring.push('not json at all\n');
    const text = JSON.stringify(ring.query());
    expect(text).not.toContain('000102030405060708090A0B0C0D0E0F');
    expect(text).not.toContain('12345678');
    expect(text).not.toContain('dcu_tech_abc');
    expect(text).not.toContain('Bearer x');
    expect(ring.query().at(-1)?.msg).toBe('not json at all');
  });

  it('belongs to each root logger createLogger makes, and keeps lines once asked for; nullLogger has none', () => {
    expect(logRingOf(nullLogger)).toBeUndefined();
    const logger = createLogger({ level: 'silent' });
    const ring = logRingOf(logger);
    expect(ring?.enabled).toBe(true);
  });
});
