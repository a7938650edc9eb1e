import { LineArbiter, type Lease } from '../../../daemon/lines/arbiter';
import { ErrorCode } from '../../../protocol/common/errors';
import { codeOfAsync } from '../../helpers/dcu-error';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('LineArbiter', () => {
  it('serves one holder at a time on a multi-drop line, most urgent first, then in arrival order', async () => {
    const grants: string[] = [];
    const line = new LineArbiter('plc0', 1, { onGrant: (h) => grants.push(h) });
    const first = await line.acquire('lp-A', 'scheduled');
    const waiting = [
      line.acquire('lp-B', 'scheduled'),
      line.acquire('bg-C', 'background'),
      line.acquire('od-D', 'on-demand'),
      line.acquire('fw-E', 'firmware'),
      line.acquire('od-F', 'on-demand'),
    ];
    expect(line.queued).toBe(5);
    const leases = new Map<string, Lease>();
    for (const p of waiting) void p.then((l) => leases.set(l.holder, l));
    let current: Lease | undefined = first;
    while (current !== undefined) {
      current.release();
      await tick();
      current = leases.get(grants[grants.length - 1] ?? '');
      if (current !== undefined) leases.delete(current.holder);
    }
    expect(grants).toEqual(['lp-A', 'od-D', 'od-F', 'fw-E', 'lp-B', 'bg-C']);
  });

  it('a long job yields between requests to an on-demand read and gets the line back after it', async () => {
    const log: string[] = [];
    const line = new LineArbiter('plc0', 1, { onGrant: (h) => log.push(`grant ${h}`) });
    const backfill = (async () => {
      const lease = await line.acquire('backfill', 'scheduled');
      for (let request = 1; request <= 4; request++) {
        log.push(`backfill request ${request}`);
        await tick(); // the request in flight
        if (lease.preempted) {
          log.push('backfill yields');
          await lease.yield();
        }
      }
      lease.release();
    })();
    await tick();
    const onDemand = (async () => {
      const lease = await line.acquire('on-demand', 'on-demand');
      log.push('on-demand read');
      lease.release();
    })();
    await Promise.all([backfill, onDemand]);
    const od = log.indexOf('on-demand read');
    // the on-demand read ran right after the request in flight, before the next one
    expect(log.slice(0, od + 1)).toEqual(['grant backfill', 'backfill request 1', 'backfill yields', 'grant on-demand', 'on-demand read']);
    expect(log.slice(od + 1)).toEqual(['grant backfill', 'backfill request 2', 'backfill request 3', 'backfill request 4']);
  });

  it('a yielding job comes back before jobs of its own priority that queued later', async () => {
    const grants: string[] = [];
    const line = new LineArbiter('plc0', 1, { onGrant: (h) => grants.push(h) });
    const a = await line.acquire('A', 'scheduled');
    const b = line.acquire('B', 'scheduled');
    const od = line.acquire('OD', 'on-demand');
    const back = a.yield();
    (await od).release();
    await back;
    a.release();
    (await b).release();
    expect(grants).toEqual(['A', 'OD', 'A', 'B']);
  });

  it('serves up to its capacity at once (TCP concurrency)', async () => {
    const line = new LineArbiter('ip', 3);
    const leases = await Promise.all(['a', 'b', 'c'].map((h) => line.acquire(h, 'scheduled')));
    const fourth = line.acquire('d', 'scheduled');
    expect(line.busy).toBe(3);
    expect(line.queued).toBe(1);
    leases[0]!.release();
    leases[0]!.release(); // twice is harmless
    expect((await fourth).holder).toBe('d');
    expect(line.busy).toBe(3);
  });

  it('cancellation removes a waiter; close refuses the rest', async () => {
    const line = new LineArbiter('plc0', 1);
    const held = await line.acquire('A', 'scheduled');
    const ctl = new AbortController();
    const cancelled = line.acquire('B', 'scheduled', ctl.signal);
    const refused = line.acquire('C', 'scheduled');
    ctl.abort();
    expect(await codeOfAsync(cancelled)).toBe(ErrorCode.JobCancelled);
    line.close();
    expect(await codeOfAsync(refused)).toBe(ErrorCode.TransportClosed);
    expect(await codeOfAsync(line.acquire('D', 'on-demand'))).toBe(ErrorCode.TransportClosed);
    held.release();
  });
});
