/** Small builders for the simulator plumbing tests: echo meters in slots. */
import { FakeClock, systemClock, type Clock } from '../../protocol/common/clock';
import { clientAddress, serverAddress } from '../../protocol/hdlc/address';
import { encodeFrame } from '../../protocol/hdlc/frame';
import { HdlcSplitter } from '../../protocol/hdlc/splitter';
import { HdlcRouter } from '../../sim/router';
import { createEchoMeter, type EchoMeter } from '../../sim/fake-meter';
import { FaultInjector, type FaultSpec } from '../../sim/faults';
import { createRng, deriveSeed } from '../../sim/prng';
import { MeterSlot } from '../../sim/slot';
import type { SimMeterSpec } from '../../sim/types';

export function spec(index: number, physicalAddress: number, logicalDevice = 1): SimMeterSpec {
  return {
    index,
    serial: `SIM${String(index).padStart(6, '0')}`,
    physicalAddress,
    logicalDevice,
    credentials: [{ client: 16, auth: 'none' }],
    rejectAssociations: false,
    seed: index,
  };
}

export interface TestSlot {
  slot: MeterSlot;
  meter: () => EchoMeter | undefined;
}

export function echoSlot(
  s: SimMeterSpec,
  faults: FaultSpec = {},
  opts: { clock?: Clock; seed?: number; start?: number; prefix?: Uint8Array } = {},
): TestSlot {
  const clock = opts.clock ?? systemClock;
  let m: EchoMeter | undefined;
  const injector = new FaultInjector(faults, createRng(deriveSeed(opts.seed ?? 1, s.serial)), clock, opts.start ?? clock.now());
  const slot = new MeterSlot(s, injector, (sp) => {
    m = createEchoMeter(sp, opts.prefix);
    return m;
  });
  return { slot, meter: () => m };
}

export const snrm = (physical: number): Uint8Array =>
  encodeFrame({ dest: serverAddress(1, physical), src: clientAddress(16), control: { kind: 'SNRM', pf: true }, segmented: false, info: new Uint8Array(0) });

/** Sends `n` SNRMs to meter 16 through a router and classifies each answer. */
export function faultPattern(faults: FaultSpec, seed: number, n = 40): string {
  const clock = new FakeClock();
  const { slot } = echoSlot(spec(0, 16), faults, { clock, seed });
  const router = new HdlcRouter([slot], { clock, where: 't' });
  const splitter = new HdlcSplitter();
  let out = '';
  for (let i = 0; i < n; i++) {
    const answers = router.push(snrm(16));
    if (answers.length === 0) {
      out += '.';
      continue;
    }
    const evs = answers.flatMap((a) => a.frames.flatMap((f) => splitter.push(f)));
    out += evs.some((e) => e.type === 'frame' && e.frame.control.kind === 'UA') ? 'U' : 'x';
    splitter.reset();
  }
  return out;
}

