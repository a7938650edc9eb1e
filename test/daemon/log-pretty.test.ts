/** --verbose on a terminal: pino JSON lines as readable text; anything else passes through. */
import { prettyDestination, prettyLine } from '../../daemon/log-pretty';

it('formats a pino line: time, level, message, then the other fields', () => {
  const time = new Date(2026, 10, 23, 10, 30, 0, 123).getTime();
  const line = JSON.stringify({ level: 10, time, pid: 1, hostname: 'h', name: 'dcu', meter: 'tcp 127.0.0.1:4059', tx: '7E A0 07', msg: 'tx' });
  expect(prettyLine(line)).toBe('10:30:00.123 TRACE tx  meter="tcp 127.0.0.1:4059" tx="7E A0 07"');
  expect(prettyLine('not json')).toBe('not json');
  expect(prettyLine(JSON.stringify({ level: 40, msg: 'x', n: 3, ok: true }))).toBe('--:--:--.--- WARN  x  n=3 ok=true');
});

it('splits chunks into lines', () => {
  const out: string[] = [];
  const d = prettyDestination((t) => out.push(t), false);
  d.write('{"level":30,"msg":"a"}\n{"level":30,');
  d.write('"msg":"b"}\n');
  expect(out).toEqual(['--:--:--.--- INFO  a\n', '--:--:--.--- INFO  b\n']);
});
