/**
 * Faults on a real pty line: the same seed loses/corrupts the same answers as the sans-IO
 * router computes, and a silent period keeps the meter quiet.
 */
import { systemClock } from '../../protocol/common/clock';
import { HdlcSplitter } from '../../protocol/hdlc/splitter';
import { SerialTransport } from '../../protocol/transport/serial';
import type { FaultSpec } from '../../sim/faults';
import { SimLine } from '../../sim/line';
import { createRng } from '../../sim/prng';
import { createPtyPair, type PtyPair } from '../helpers/socat';
import { echoSlot, faultPattern, snrm, spec } from './fixtures';

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

  async function start(faults: FaultSpec, seed: number): Promise<{ send: () => Promise<string> }> {
    const { slot } = echoSlot(spec(0, 16), faults, { seed });
    line = new SimLine({
      name: 'line0',
      transport: new SerialTransport({ path: pair.b }),
      slots: [slot],
      clock: systemClock,
      baud: 0,
      latencyMs: 0,
      rng: createRng(seed),
    });
    await line.start();
    const p = new SerialTransport({ path: pair.a });
    port = p;
    await p.open();
    const splitter = new HdlcSplitter();
    let got = '';
    p.onData((c) => {
      for (const e of splitter.push(c)) got += e.type === 'frame' ? (e.frame.control.kind === 'UA' ? 'U' : '?') : 'x';
    });
    return {
      /** One SNRM; 'U' answered, 'x' corrupted answer, '.' nothing within 120 ms. */
      async send() {
        got = '';
        await p.write(snrm(16));
        const end = Date.now() + 120;
        while (got === '' && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
        // A corrupted frame may be reported as garbage and a bad frame: one mark per answer.
        splitter.reset();
        return got === '' ? '.' : got.includes('U') ? 'U' : 'x';
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
    const line0 = await start({ silent: [{ fromMs: 0, toMs: 600 }] }, 1);
    expect(await line0.send()).toBe('.');
    await new Promise((r) => setTimeout(r, 650));
    expect(await line0.send()).toBe('U');
  });
});
