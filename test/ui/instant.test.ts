/** Date-times typed on the command line: offset when given, else the machine's zone (TZ). */
import { prepare } from '../../cli/probe/commands';
import { describeInstant, parseRange, parseTypedInstant } from '../../common/instant';
import { ErrorCode } from '../../protocol/common/errors';
import { expectDcuError } from '../helpers/dcu-error';

const usage = (fn: () => unknown, message: RegExp): void => {
  expect(expectDcuError(fn, ErrorCode.Usage).message).toMatch(message);
};

describe('parseTypedInstant', () => {
  it('uses the offset when one is given', () => {
    expect(parseTypedInstant('2026-11-23T01:00+01:00', '--from')).toEqual({ ms: Date.UTC(2026, 10, 23, 0, 0), offsetMinutes: 60, local: false });
    expect(parseTypedInstant('2026-11-23T00:00Z', '--from').ms).toBe(Date.UTC(2026, 10, 23));
    expect(parseTypedInstant('2026-11-23T00:00:30.5-0230', '--to').ms).toBe(Date.UTC(2026, 10, 23, 2, 30, 30, 500));
  });

  // TZ itself is exercised end to end (a child process with TZ=Europe/Berlin) in probe-ux.test.ts:
  // jest workers do not pick up a TZ changed at run time.
  it('takes text without an offset as local time, and says so', () => {
    const i = parseTypedInstant('2026-11-23T00:00', '--from');
    const local = new Date(2026, 10, 23);
    expect(i).toEqual({ ms: local.getTime(), offsetMinutes: -local.getTimezoneOffset() || 0, local: true });
    expect(describeInstant(i)).toMatch(/^2026-11-23T00:00:00[+-]\d\d:\d\d \(no offset given: local time, .+\)$/);
    expect(parseTypedInstant('2026-07-01', '--from').ms).toBe(new Date(2026, 6, 1).getTime());
  });

  it('refuses what is not a date-time', () => {
    for (const bad of ['yesterday', '2026-13-01', '2026-11-31T00:00Z', '2026-11-23T24:00', '23.11.2026']) {
      usage(() => parseTypedInstant(bad, '--from'), /--from takes an ISO date-time/);
    }
  });
});

describe('parseRange', () => {
  it('wants both ends, from not after to', () => {
    expect(parseRange(undefined, undefined)).toBeUndefined();
    usage(() => parseRange('2026-11-23T00:00Z', undefined), /go together/);
    usage(() => parseRange('2026-11-23T00:00Z', '2026-11-22T00:00Z'), /later than --to.*swap/);
    expect(parseRange('2026-11-22T00:00Z', '2026-11-22T00:00Z')?.from.ms).toBe(Date.UTC(2026, 10, 22));
  });
});

describe('the same rule in every command', () => {
  it('clock --set, get and profile ranges read offset-less text as local time', () => {
    const local = new Date(2026, 10, 23, 10, 30).getTime();
    expect(prepare({ command: 'clock', set: '2026-11-23T10:30' })).toMatchObject({ command: 'clock', set: local, setAs: expect.stringMatching(/^2026-11-23T10:30:00.* \(no offset given: local time, /) });
    expect(prepare({ command: 'clock', set: '2026-11-23T10:30+01:00' })).toEqual({ command: 'clock', set: Date.UTC(2026, 10, 23, 9, 30), setAs: '2026-11-23T10:30:00+01:00' });
    const p = prepare({ command: 'profile', obis: '1.0.99.1.0.255', from: '2026-11-23T10:30', to: '2026-11-23T11:30Z', csv: false });
    expect(p).toMatchObject({ from: local, to: Date.UTC(2026, 10, 23, 11, 30) });
    expect(() => prepare({ command: 'get', ref: '7:1.0.99.1.0.255:2', from: '2026-11-24T00:00Z', to: '2026-11-23T00:00Z' })).toThrow(/later than --to/);
  });
});
