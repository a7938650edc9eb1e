/**
 * Faults on a real pty line: the same seed loses/corrupts the same answers as the sans-IO
 * router computes, and a silent period keeps the meter quiet. Line and fault time is a
 * FakeClock: each exchange waits for the line's counters and the bytes on the pty, never for
 * a span of real time.
 */
import { FakeClock } from '../../protocol/common/clock';
import { concatBytes } from '../../protocol/common/hex';
import { HdlcSplitter } from '../../protocol/hdlc/splitter';
import { SerialTransport } from '../../protocol/transport/serial';
import type { FaultSpec } from '../../sim/faults';
import { SimLine } from '../../sim/line';
import { createRng } from '../../sim/prng';
import { createPtyPair, type PtyPair } from '../helpers/socat';
import { echoSlot, faultPattern, snrm, spec } from './fixtures';
import { until } from '../helpers/until';

describe('SimLine faults over a socat pty pair', () => {
  let pair: PtyPair;
  let line: SimLine | undefined;
  let port: SerialTransport | undefined;

  beforeEach(async () => {
    pair = await createPtyPair();
  });

  afterEach(async () => {
    await line?.stop();
    await port?.close();
    line = undefined;
    port = undefined;
    await pair.close();
  });

  async function start(faults: FaultSpec, seed: number, clock = new FakeClock()): Promise<{ send: () => Promise<string> }> {
    const { slot } = echoSlot(spec(0, 16), faults, { seed, clock });
    const l = new SimLine({
      name: 'line0',
      transport: new SerialTransport({ path: pair.b }),
      slots: [slot],
      clock,
      baud: 0,
      latencyMs: 0,
      rng: createRng(seed),
    });
    line = l;
    await l.start();
    const p = new SerialTransport({ path: pair.a });
    port = p;
    await p.open();
    let received: Uint8Array[] = [];
    let receivedBytes = 0;
    p.onData((c) => {
      received.push(c);
      receivedBytes += c.length;
    });
    return {
      /** One SNRM; 'U' answered, 'x' corrupted answer, '.' no answer (the line dropped it or its answer). */
      async send() {
        received = [];
        const before = l.stats;
        await p.write(snrm(16));
        await until(() => l.stats.frames > before.frames, 'the line to read the SNRM');
        if (l.stats.answers === before.answers) return '.';
        // Answered (possibly corrupted): wait for every byte the line wrote to reach our end.
        await until(() => l.stats.bytesOut > before.bytesOut && receivedBytes === l.stats.bytesOut, 'the answer');
        // A corrupted frame may be reported as garbage and a bad frame: one mark per answer.
        const evs = new HdlcSplitter().push(concatBytes(received));
        return evs.some((e) => e.type === 'frame' && e.frame.control.kind === 'UA') ? 'U' : 'x';
      },
    };
  }

  it('loses and corrupts answers deterministically by seed', async () => {
    const faults = { lossProbability: 0.25, corruptProbability: 0.25 };
    const expected = faultPattern(faults, 11, 16);
    const line0 = await start(faults, 11);
    let seen = '';
    for (let i = 0; i < 16; i++) seen += await line0.send();
    expect(seen).toBe(expected);
    expect(seen).toMatch(/\./);
    expect(seen).toMatch(/x/);
    expect(line?.stats.dropped).toBeGreaterThan(0);
  });

  it('stays silent during a silent period, then answers again', async () => {
    const clock = new FakeClock();
    const line0 = await start({ silent: [{ fromMs: 0, toMs: 600 }] }, 1, clock);
    expect(await line0.send()).toBe('.');
    clock.advance(650);
    expect(await line0.send()).toBe('U');
  });
});
