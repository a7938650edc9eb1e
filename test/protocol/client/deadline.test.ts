import { Deadline, msPerByte, planDeadline } from '../../../protocol/client/deadline';
import { FakeClock } from '../../../protocol/common/clock';
import { ErrorCode } from '../../../protocol/common/errors';
import { memoryTransportPair } from '../../helpers/memory-transport';

const plan = { baseMs: 1000, perBlockMs: 100, msPerByte: 1, linkCreditMs: 50, ceilingMs: 5000, fixed: false };

describe('Deadline', () => {
  it('expires after its base without progress and says what to change', () => {
    const clock = new FakeClock();
    const d = new Deadline(clock, 'GET 3:1.0.1.8.0.255:2', plan);
    clock.advance(999);
    expect(d.expired).toBe(false);
    clock.advance(1);
    expect(d.expired).toBe(true);
    const e = d.error();
    expect(e.code).toBe(ErrorCode.DeadlineExceeded);
    expect(e.message).toContain('GET 3:1.0.1.8.0.255:2');
    expect(e.message).toContain('requestDeadlineMs');
  });

  it('grows by a block allowance plus twice the bytes’ time for each block of progress, up to the ceiling', () => {
    const clock = new FakeClock();
    const d = new Deadline(clock, 'x', plan);
    d.progress(10); // +100 + 20
    expect(d.remainingMs()).toBe(1120);
    for (let i = 0; i < 100; i++) d.progress(1000);
    expect(d.remainingMs()).toBe(5000);
  });

  it('lets link progress earn at most linkCreditMs between two blocks', () => {
    const clock = new FakeClock();
    const d = new Deadline(clock, 'x', plan);
    for (let i = 0; i < 100; i++) d.linkProgress(10);
    expect(d.remainingMs()).toBe(1050);
    d.progress(0);
    d.linkProgress(1000);
    expect(d.remainingMs()).toBe(1200);
  });

  it('does not grow when fixed', () => {
    const clock = new FakeClock();
    const d = new Deadline(clock, 'x', { ...plan, fixed: true });
    d.progress(1000);
    d.linkProgress(1000);
    expect(d.remainingMs()).toBe(1000);
  });
});

describe('planDeadline', () => {
  const [transport] = memoryTransportPair();
  const options = { maxPduSize: 1024, responseTimeoutMs: 1000 };

  it('takes a configured deadline as fixed', () => {
    expect(planDeadline('request', { ...options, limits: { requestDeadlineMs: 7000 } }, transport, 3500)).toMatchObject({ baseMs: 7000, ceilingMs: 7000, fixed: true });
    expect(planDeadline('association', { ...options, limits: { associationDeadlineMs: 9000 } }, transport, 3500)).toMatchObject({ baseMs: 9000, fixed: true });
  });

  it('defaults from exchanges, the response timeout and the link speed (9600 baud without a serial port)', () => {
    const p = planDeadline('request', options, transport, 3500);
    expect(p).toMatchObject({ baseMs: 7000, perBlockMs: 1000, msPerByte: msPerByte(9600), fixed: false });
    expect(p.linkCreditMs).toBeCloseTo(2 * 2048 * msPerByte(9600));
    expect(planDeadline('request', { ...options, limits: { baud: 115_200 } }, transport, 3500).msPerByte).toBeCloseTo(10_000 / 115_200);
    expect(planDeadline('association', options, transport, 3500).baseMs).toBe(10_500);
  });
});
