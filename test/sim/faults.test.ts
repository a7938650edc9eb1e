import { FakeClock } from '../../protocol/common/clock';
import { clientAddress, serverAddress } from '../../protocol/hdlc/address';
import { encodeFrame } from '../../protocol/hdlc/frame';
import { HdlcSplitter } from '../../protocol/hdlc/splitter';
import { FaultInjector, isSilentAt, mergeFaults, schedulePowerCuts } from '../../sim/faults';
import { createRng, deriveSeed } from '../../sim/prng';
import { HdlcRouter } from '../../sim/router';
import { echoSlot, faultPattern, snrm, spec } from './fixtures';

describe('prng', () => {
  it('repeats for a seed and differs between seeds and sub-streams', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(createRng(43).next()).not.toBe(xs[0]);
    expect(deriveSeed(1, 'SIM000001')).not.toBe(deriveSeed(1, 'SIM000002'));
    expect(deriveSeed(1, 'SIM000001')).toBe(deriveSeed(1, 'SIM000001'));
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('silent schedules', () => {
  it('covers windows [from, to) and recurring periods', () => {
    const periods = [{ fromMs: 1000, toMs: 2000 }, { everyMs: 600_000, forMs: 60_000 }];
    expect(isSilentAt(periods, 999)).toBe(false);
    expect(isSilentAt(periods, 1000)).toBe(true);
    expect(isSilentAt(periods, 1999)).toBe(true);
    expect(isSilentAt(periods, 2000)).toBe(false);
    // Every 10 minutes for 1 minute, the first time from minute 9 to 10.
    expect(isSilentAt(periods, 539_999)).toBe(false);
    expect(isSilentAt(periods, 540_000)).toBe(true);
    expect(isSilentAt(periods, 1_140_000)).toBe(true);
    expect(isSilentAt(periods, 1_200_000)).toBe(false);
    expect(isSilentAt([{ everyMs: 1000, forMs: 100, offsetMs: 0 }], 50)).toBe(true);
    expect(isSilentAt(undefined, 5)).toBe(false);
  });

  it('makes the meter drop frames during the period (on the link clock)', () => {
    const clock = new FakeClock();
    const inj = new FaultInjector({ silent: [{ fromMs: 100, toMs: 200 }] }, createRng(1), clock, clock.now());
    expect(inj.dropIncoming()).toBe(false);
    clock.advance(150);
    expect(inj.dropIncoming()).toBe(true);
    clock.advance(50);
    expect(inj.dropIncoming()).toBe(false);
    expect(inj.stats.silenced).toBe(1);
  });

  it('is silent from now for a while when told (silenceFor), and speaks again with 0', () => {
    const clock = new FakeClock();
    const inj = new FaultInjector({}, createRng(1), clock, clock.now());
    inj.silenceFor(100);
    expect(inj.dropIncoming()).toBe(true);
    clock.advance(100);
    expect(inj.dropIncoming()).toBe(false);
    inj.silenceFor(1_000);
    expect(inj.dropIncoming()).toBe(true);
    inj.silenceFor(0);
    expect(inj.dropIncoming()).toBe(false);
    expect(inj.stats).toMatchObject({ silenced: 2, powerCuts: 0 });
  });
});

describe('fault injection', () => {
  it('drops and corrupts the same frames for the same seed', () => {
    const faults = { lossProbability: 0.2, corruptProbability: 0.2 };
    const p1 = faultPattern(faults, 7);
    expect(faultPattern(faults, 7)).toBe(p1);
    expect(p1).toMatch(/\./); // some lost
    expect(p1).toMatch(/x/); // some corrupted
    expect(p1).toMatch(/U/); // some fine
    expect(faultPattern(faults, 8)).not.toBe(p1);
  });

  it('passes everything without faults', () => {
    expect(faultPattern({}, 1, 10)).toBe('UUUUUUUUUU');
  });

  it('merges fleet, line and meter specs: later fields win, periods add up', () => {
    const m = mergeFaults(
      { lossProbability: 0.1, silent: [{ fromMs: 0, toMs: 1 }] },
      undefined,
      { lossProbability: 0.3, silent: [{ fromMs: 5, toMs: 6 }], powerCutsAtMs: [10] },
    );
    expect(m.lossProbability).toBe(0.3);
    expect(m.silent).toHaveLength(2);
    expect(m.powerCutsAtMs).toEqual([10]);
  });

  it('schedules power cuts at fixed times and periodically, and keeps the meter silent while it restarts', () => {
    const clock = new FakeClock();
    const start = clock.now();
    const { slot, meter } = echoSlot(spec(0, 16), { powerOutageMs: 500 }, { clock });
    expect(slot.meter.serial).toBe('SIM000000'); // creates it
    const cuts: number[] = [];
    const cancel = schedulePowerCuts({ powerCutsAtMs: [1000], powerCutEveryMs: 3000 }, clock, start, () => {
      cuts.push(clock.now() - start);
      slot.powerCut();
    });
    clock.advance(7000);
    expect(cuts).toEqual([1000, 3000, 6000]);
    expect(meter()?.state.powerCuts).toBe(3);
    expect(slot.faults.dropIncoming()).toBe(false);
    clock.advance(1999); // t = 8999
    slot.powerCut();
    expect(slot.faults.dropIncoming()).toBe(true);
    cancel();
    clock.advance(10_000);
    expect(cuts).toHaveLength(3);
    expect(slot.faults.dropIncoming()).toBe(false);
  });

  it('a power cut drops the HDLC link: the next I-frame gets DM', () => {
    const clock = new FakeClock();
    const { slot } = echoSlot(spec(0, 16), {}, { clock });
    const router = new HdlcRouter([slot], { clock, where: 't' });
    const splitter = new HdlcSplitter();
    const kinds = (bytes: readonly Uint8Array[]): string[] =>
      bytes.flatMap((b) => splitter.push(b)).flatMap((e) => (e.type === 'frame' ? [e.frame.control.kind] : []));
    expect(kinds(router.push(snrm(16)).flatMap((a) => a.frames))).toEqual(['UA']);
    slot.powerCut();
    const i = encodeFrame({
      dest: serverAddress(1, 16),
      src: clientAddress(16),
      control: { kind: 'I', ns: 0, nr: 0, pf: true },
      segmented: false,
      info: Uint8Array.of(0xe6, 0xe6, 0x00, 0x01),
    });
    expect(kinds(router.push(i).flatMap((a) => a.frames))).toEqual(['DM']);
  });
});
