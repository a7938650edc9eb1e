/** The watchdog on a FakeClock: pings at half the period while every loop progresses, none while one stalls. */
import { FakeClock } from '../../protocol/common/clock';
import { nullLogger } from '../../protocol/common/log';
import { Notifier } from '../../daemon/notify';
import { statusLine, uplinkLiveness, Watchdog, type Liveness } from '../../daemon/watchdog';

function setup(loops: Record<string, Liveness>): { clock: FakeClock; sent: string[][]; dog: Watchdog } {
  const clock = new FakeClock();
  const sent: string[][] = [];
  const notifier = new Notifier(nullLogger, { NOTIFY_SOCKET: '/run/x' }, (fields) => {
    sent.push([...fields]);
    return Promise.resolve();
  });
  const dog = new Watchdog({ clock, logger: nullLogger, notifier, loops, status: () => 'ok' }, 10_000);
  return { clock, sent, dog };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

it('pings every half period while the loops progress, and stops while one stalls', async () => {
  let stalled = false;
  const { clock, sent, dog } = setup({ scheduler: () => (stalled ? 'stopped looking at the job queue' : undefined), collector: () => undefined });
  dog.start();
  for (let i = 0; i < 3; i++) {
    await flush();
    clock.advance(5_000);
  }
  await flush();
  expect(sent.filter((f) => f[0] === 'WATCHDOG=1')).toHaveLength(4);
  expect(sent[0]).toEqual(['WATCHDOG=1', 'STATUS=ok']);
  stalled = true;
  sent.length = 0;
  for (let i = 0; i < 3; i++) {
    clock.advance(5_000);
    await flush();
  }
  expect(sent).toEqual(Array.from({ length: 3 }, () => ['STATUS=stalled: scheduler: stopped looking at the job queue']));
  stalled = false;
  clock.advance(5_000);
  await flush();
  expect(sent.at(-1)).toEqual(['WATCHDOG=1', 'STATUS=ok']);
  dog.stop();
  expect(clock.pending).toBe(0);
});

it('is off without NOTIFY_SOCKET, and reads WATCHDOG_USEC only for its own pid', () => {
  expect(new Notifier(nullLogger, {}).watchdogMs()).toBeUndefined();
  expect(new Notifier(nullLogger, { NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '30000000' }).watchdogMs()).toBe(30_000);
  expect(new Notifier(nullLogger, { NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }).watchdogMs(2)).toBeUndefined();
  expect(new Notifier(nullLogger, { NOTIFY_SOCKET: '/s', WATCHDOG_USEC: 'x' }).watchdogMs()).toBeUndefined();
});

it('summarises the health snapshot in one STATUS line', () => {
  const line = statusLine({ meters: { total: 6, unreachable: 1 }, jobs: { queued: 2, running: 1 }, outbox: { backlog: 40 }, store: { fill: 0.123 } }, false);
  expect(line).toBe('6 meters (1 unreachable), jobs 2 queued, 1 running, outbox 40, store 12% full, MQTT disconnected');
});

it('calls the uplink stalled only when connected with a backlog and no send or settle for the stall time', () => {
  const h = { session: { connected: true }, drain: { published: 0, delivered: 0, kept: {} as Record<string, number> }, backlog: [{}] as unknown[] };
  const alive = uplinkLiveness(() => h, 60_000);
  expect(alive(0)).toBeUndefined();
  expect(alive(60_000)).toBeUndefined();
  expect(alive(61_000)).toBe('connected with messages waiting, but nothing sent or settled for 61 s');
  h.drain.published = 1; // progress resets the mark
  expect(alive(62_000)).toBeUndefined();
  expect(alive(122_000)).toBeUndefined();
  h.session.connected = false; // the WAN is down: reconnecting is the loop's work, not a stall
  expect(alive(500_000)).toBeUndefined();
  h.session.connected = true;
  h.backlog = [];
  expect(alive(900_000)).toBeUndefined();
});
