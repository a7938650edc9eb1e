/**
 * The client against a meter that associates and then talks without getting anywhere:
 * every case ends with a typed DcuError within the request's deadline (clock time, FakeClock)
 * and with what the meter managed to send bounded by the limits.
 */
import { settleOnClock } from '../../../bench/fuzz/drive';
import { HOSTILE_REGISTER_OBIS, HostileMeter, type HostileBehaviour, type HostileMeterOptions } from '../../../bench/fuzz/hostile-meter';
import { DlmsClient, type ClientOptionsInput } from '../../../protocol/client/client';
import type { CosemRef } from '../../../protocol/cosem/classes';
import { FakeClock } from '../../../protocol/common/clock';
import { mulberry32 } from '../../../bench/fuzz/rng';
import { ErrorCode, isDcuError } from '../../../protocol/common/errors';

const REGISTER: CosemRef = { classId: 3, obis: [...HOSTILE_REGISTER_OBIS], index: 2 };
/** responseTimeout 1000 ms × (retries 2 + 1) + 500: one exchange's silence watchdog. */
const EXCHANGE_MS = 3500;

async function attack(
  framing: 'hdlc' | 'wrapper',
  behaviour: HostileBehaviour,
  client: Partial<ClientOptionsInput> = {},
  meterOptions: Pick<HostileMeterOptions, 'garbageBytes'> = {},
) {
  const clock = new FakeClock();
  const meter = new HostileMeter({ framing, behaviour, clock, random: mulberry32(7), ...meterOptions });
  const c = new DlmsClient(meter, { framing, clock, responseTimeoutMs: 1000, retries: 2, ...client });
  const connected = await settleOnClock(clock, c.connect(), 60_000);
  expect(connected.kind).toBe('ok');
  const start = clock.now();
  const outcome = await settleOnClock(clock, c.get(REGISTER), 24 * 3600_000);
  const elapsed = clock.now() - start;
  // What `dcu probe` does next, the meter still talking: close() must end as well.
  const closeStart = clock.now();
  const closed = await settleOnClock(clock, c.close(), 24 * 3600_000);
  const closeElapsed = clock.now() - closeStart;
  meter.dispose();
  await meter.close();
  c['driver'].detach();
  if (outcome.kind !== 'error') throw new Error(`expected a DcuError, got ${outcome.kind}`);
  if (!isDcuError(outcome.error)) throw outcome.error;
  return { error: outcome.error, elapsed, meter, closed, closeElapsed };
}

describe.each(['hdlc', 'wrapper'] as const)('the client against a hostile meter over %s', (framing) => {
  it('gives up on a meter that streams garbage', async () => {
    const { error, elapsed } = await attack(framing, 'garbage');
    expect([ErrorCode.Timeout, ErrorCode.LinkRetriesExhausted, ErrorCode.DeadlineExceeded]).toContain(error.code);
    expect(elapsed).toBeLessThanOrEqual(2 * EXCHANGE_MS);
  });

  it('keeps a configured deadline however the meter talks', async () => {
    const { error, elapsed } = await attack(framing, 'stale-answers', { limits: { requestDeadlineMs: 2000 } });
    expect(error.code).toBe(ErrorCode.DeadlineExceeded);
    expect(elapsed).toBeLessThanOrEqual(2000);
  });

  it('ends stale answers that keep coming (no answer with our invoke id) at the default deadline', async () => {
    const { error, elapsed } = await attack(framing, 'stale-answers');
    expect(error.code).toBe(ErrorCode.DeadlineExceeded);
    // Two exchanges, plus what each whole (useless) APDU earns as link progress: a step, not its bytes.
    expect(elapsed).toBeLessThanOrEqual(Number(error.context.deadlineMs));
    expect(error.context.deadlineMs).toBeLessThan(3 * EXCHANGE_MS);
  });

  it('refuses an answer that never ends (endless segments / a frame that never completes)', async () => {
    const { error, elapsed, meter } = await attack(framing, 'endless-segments', { limits: { maxApduSize: 4096 } });
    if (framing === 'hdlc') {
      expect(error.code).toBe(ErrorCode.FramingTooLong);
      expect(meter.stats.bytesOut).toBeLessThan(20_000); // the limit, a handful of frames and the association
    } else {
      expect(error.code).toBe(ErrorCode.FramingTooLong); // the claimed length is over the limit
    }
    expect(elapsed).toBeLessThanOrEqual(2 * EXCHANGE_MS);
  });

  it('ends a wrapper frame dribbled byte by byte within the deadline (link progress earns little)', async () => {
    if (framing === 'hdlc') return;
    const { error, elapsed } = await attack(framing, 'endless-segments');
    expect(error.code).toBe(ErrorCode.DeadlineExceeded);
    expect(elapsed).toBeLessThanOrEqual(4 * EXCHANGE_MS);
  });

  it('stops asking for the next GET block when blocks come empty', async () => {
    const { error, meter } = await attack(framing, 'empty-get-blocks');
    expect(error.code).toBe(ErrorCode.MeterBlockSequence);
    expect(meter.stats.requests).toBeLessThan(10);
  });

  it('bounds GET block reassembly by limits.maxReassembledBytes', async () => {
    const { error, meter } = await attack(framing, 'endless-get-blocks', { limits: { maxReassembledBytes: 4096 } });
    expect(error.code).toBe(ErrorCode.DecodeBadLength);
    expect(meter.stats.requests).toBeLessThanOrEqual(4096 / 64 + 4);
  });

  it('gives up on a GBT stream that repeats one block', async () => {
    const { error, elapsed } = await attack(framing, 'duplicate-gbt');
    expect([ErrorCode.MeterBlockSequence, ErrorCode.DeadlineExceeded]).toContain(error.code);
    expect(elapsed).toBeLessThanOrEqual(2 * EXCHANGE_MS);
  });

  it('gives up on a GBT stream of empty blocks', async () => {
    const { error, elapsed } = await attack(framing, 'empty-gbt');
    expect([ErrorCode.MeterBlockSequence, ErrorCode.DeadlineExceeded]).toContain(error.code);
    expect(elapsed).toBeLessThanOrEqual(2 * EXCHANGE_MS);
  });
});

describe('the wrapper client against a meter that floods garbage or dribbles a frame', () => {
  it('gives up on a garbage flood at the silence watchdog: `00 01` pseudo-headers in it earn no progress', async () => {
    // 400 KB/s of random bytes hold a plausible header every 64 KiB or so; its "body" used to
    // count as a frame on its way, so the request lived on link credit (2 minutes at 9600 Bd).
    const { error, elapsed } = await attack('wrapper', 'garbage', {}, { garbageBytes: 4096 });
    expect([ErrorCode.Timeout, ErrorCode.DeadlineExceeded]).toContain(error.code);
    expect(elapsed).toBeLessThanOrEqual(2 * EXCHANGE_MS);
  });

  it('close() ends after the deadline error although the meter keeps dribbling its frame', async () => {
    const { error, closed, closeElapsed } = await attack('wrapper', 'endless-segments');
    expect(error.code).toBe(ErrorCode.DeadlineExceeded);
    expect(closed.kind).toBe('ok');
    expect(closeElapsed).toBeLessThanOrEqual(2 * 1000 + 1000); // the release's two response timeouts, the socket's close
  });

  it('close() after a garbage flood ends too', async () => {
    const { closed, closeElapsed } = await attack('wrapper', 'garbage', {}, { garbageBytes: 4096 });
    expect(closed.kind).toBe('ok');
    expect(closeElapsed).toBeLessThanOrEqual(2 * 1000 + 1000);
  });
});

describe('the client against a hostile HDLC meter that holds the turn', () => {
  // RNR and RR are no progress: the silence watchdog is not restarted by them and ends first.
  it('gives up on a meter that answers every poll with RNR', async () => {
    const { error, elapsed } = await attack('hdlc', 'busy');
    expect([ErrorCode.Timeout, ErrorCode.LinkRetriesExhausted]).toContain(error.code);
    expect(elapsed).toBeLessThanOrEqual(EXCHANGE_MS);
  });

  it('gives up on a meter that answers every poll with RR and never the answer', async () => {
    const { error, elapsed } = await attack('hdlc', 'ready-no-answer');
    expect([ErrorCode.Timeout, ErrorCode.LinkRetriesExhausted]).toContain(error.code);
    expect(elapsed).toBeLessThanOrEqual(EXCHANGE_MS);
  });

  it('counts RR answers that acknowledge nothing new against maxBusyPolls (they no longer reset it)', async () => {
    const { error } = await attack('hdlc', 'ready-no-answer', { responseTimeoutMs: 60_000 });
    expect(error.code).toBe(ErrorCode.LinkRetriesExhausted);
  });
});

describe.each(['hdlc', 'wrapper'] as const)('connect() against a hostile meter over %s', (framing) => {
  async function connectTo(limits: ClientOptionsInput['limits']) {
    const clock = new FakeClock();
    const meter = new HostileMeter({ framing, behaviour: 'garbage', clock, random: mulberry32(3), hostileFromStart: true });
    const c = new DlmsClient(meter, { framing, clock, responseTimeoutMs: 1000, retries: 2, ...(limits === undefined ? {} : { limits }) });
    // Garbage from the first byte: the meter starts talking as soon as anything reaches it.
    const outcome = await settleOnClock(clock, c.connect(), 24 * 3600_000);
    const elapsed = clock.now() - Date.UTC(2026, 0, 1);
    meter.dispose();
    await meter.close();
    if (outcome.kind !== 'error' || !isDcuError(outcome.error)) throw new Error(`expected a DcuError, got ${outcome.kind}`);
    return { error: outcome.error, elapsed };
  }

  it('ends within the default association deadline', async () => {
    const { error, elapsed } = await connectTo(undefined);
    expect([ErrorCode.Timeout, ErrorCode.LinkRetriesExhausted, ErrorCode.DeadlineExceeded]).toContain(error.code);
    expect(elapsed).toBeLessThanOrEqual(3 * EXCHANGE_MS);
  });

  it('ends at a configured association deadline', async () => {
    const { error, elapsed } = await connectTo({ associationDeadlineMs: 1500 });
    expect(error.code).toBe(ErrorCode.DeadlineExceeded);
    expect(elapsed).toBeLessThanOrEqual(1500);
  });
});
