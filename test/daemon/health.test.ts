import { HealthReporter, healthSnapshot } from '../../daemon/health';
import { FakeClock } from '../../protocol/common/clock';
import { openStore, write } from '../../storage/db';
import { Outbox } from '../../storage/outbox';

describe('data/health', () => {
  it('appends the snapshot to the outbox stream health at its interval; a failed report does not stop it', () => {
    const clock = new FakeClock(Date.parse('2026-12-01T00:00:00Z'));
    const db = openStore(':memory:');
    const outbox = new Outbox(db);
    let fail = false;
    const errors: unknown[] = [];
    const reporter = new HealthReporter(
      clock,
      15 * 60_000,
      () => {
        if (fail) throw new Error('store full');
        write(db, 'health', () => outbox.append('health', healthSnapshot({ id: 'dcu-1', db, clock, startedAt: Date.parse('2026-12-01T00:00:00Z'), lines: new Map(), activeAttempts: () => 0 }), clock.now()));
      },
      (e) => errors.push(e),
    );
    reporter.start();
    const reports = (): { uptimeS: number; id: string }[] => (db.prepare("SELECT payload FROM outbox WHERE stream = 'health' ORDER BY seq").all() as { payload: string }[]).map((r) => JSON.parse(r.payload) as { uptimeS: number; id: string });
    clock.advance(14 * 60_000);
    expect(reports()).toHaveLength(0);
    clock.advance(60_000);
    expect(reports()).toEqual([expect.objectContaining({ id: 'dcu-1', uptimeS: 900 })]);
    fail = true;
    clock.advance(15 * 60_000);
    expect(errors).toHaveLength(1);
    fail = false;
    clock.advance(15 * 60_000);
    expect(reports().map((r) => r.uptimeS)).toEqual([900, 2700]);
    reporter.stop();
    clock.advance(60 * 60_000);
    expect(reports()).toHaveLength(2);
    db.close();
  });

  it('is off at 0', () => {
    const clock = new FakeClock(0);
    let n = 0;
    const reporter = new HealthReporter(clock, 0, () => n++, () => undefined);
    reporter.start();
    clock.advance(86_400_000);
    expect(n).toBe(0);
  });
});
