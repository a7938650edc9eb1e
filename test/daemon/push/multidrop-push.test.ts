/**
 * A meter on a multi-drop line speaks first: the simulated line puts its push on the bus as
 * a UI frame, the daemon's MultidropLine hands the frame no session owns to the PushHandler,
 * and it is an alarm — while the line is idle and while another meter's session holds it.
 */
import { encodeFrame } from '../../../protocol/hdlc/frame';
import { clientAddress, serverAddress } from '../../../protocol/hdlc/address';
import { ErrorCode } from '../../../protocol/common/errors';
import { MultidropLine } from '../../../protocol/transport/multidrop';
import { DEFAULT_CREDENTIALS } from '../../../sim/config';
import { FaultInjector } from '../../../sim/faults';
import { SimLine } from '../../../sim/line';
import { createSimMeter } from '../../../sim/meter';
import { createRng } from '../../../sim/prng';
import { SimPushSender } from '../../../sim/push';
import { MeterSlot } from '../../../sim/slot';
import type { SimMeterSpec } from '../../../sim/types';
import { memoryTransportPair } from '../../helpers/memory-transport';
import { until } from '../../helpers/until';
import { pushRig, type PushRig } from './fixtures';
import type { PushOutcome } from '../../../daemon/push/handler';

const spec = (index: number): SimMeterSpec => ({ index, serial: `SIM00000${index}`, physicalAddress: 16 + index, logicalDevice: 1, credentials: DEFAULT_CREDENTIALS, rejectAssociations: false, seed: 1 });

describe('pushes on a multi-drop line', () => {
  let rig: PushRig;
  let line: SimLine;
  let multidrop: MultidropLine;
  let slots: MeterSlot[];
  const outcomes: PushOutcome[] = [];
  beforeEach(async () => {
    rig = pushRig();
    outcomes.length = 0;
    const [simEnd, dcuEnd] = memoryTransportPair();
    const sender = new SimPushSender({ settings: { client: 16, lastGasp: false }, credentials: DEFAULT_CREDENTIALS, clock: rig.clock, busOf: () => (f) => line.pushFrame(f), onIp: () => false });
    slots = [0, 1].map(
      (i) =>
        new MeterSlot(spec(i), new FaultInjector({}, createRng(i), rig.clock, rig.clock.now()), (s) => {
          const m = createSimMeter(s, { clock: rig.clock });
          sender.attach(s, m);
          return m;
        }),
    );
    line = new SimLine({ name: 'line0', transport: simEnd, slots, clock: rig.clock, baud: 0, latencyMs: 0, rng: createRng(1) });
    await line.start();
    multidrop = new MultidropLine(dcuEnd, (f) => outcomes.push(rig.handler.handleFrame('plc0', f)));
  });
  afterEach(async () => {
    await multidrop.close();
    await line.stop();
    rig.close();
  });

  const core = (i: number) => (slots[i]?.meter as ReturnType<typeof createSimMeter>).core;

  it('an idle line that listens hears the push: alarm + outbox row, meter seen', async () => {
    await multidrop.listen();
    core(0).remote('disconnect');
    await until(() => outcomes.length === 1, 'the push handled');
    expect(outcomes[0]).toEqual({ ok: true, meter: 'SIM000000', raised: ['disconnected'] });
    expect(rig.alarms()).toEqual([{ meter: 'SIM000000', code: 'disconnected' }]);
    expect(rig.outbox().filter((o) => o.stream === 'alarms')).toHaveLength(1);
    expect(rig.meters.get('SIM000000')?.state.reachability).toBe('reachable');
    expect(multidrop.stats.dropped).toBe(1);
  });

  it('while another meter holds the line, its session never sees the push', async () => {
    const session = await multidrop.acquire({ server: serverAddress(1, 17), client: 16 });
    const seen: Uint8Array[] = [];
    session.onData((c) => seen.push(c));
    core(0).alarm |= 1; // clock invalid
    await until(() => outcomes.length === 1, 'the push handled');
    expect(outcomes[0]).toMatchObject({ ok: true, raised: ['clock-invalid'] });
    expect(seen).toEqual([]);
    session.release();
  });

  it('a meter the registry does not know at that address, or a stray frame: typed error, nothing stored', async () => {
    await multidrop.listen();
    core(1).alarm |= 1; // SIM000001 at 1/17 is not on plc0 in the registry
    await until(() => outcomes.length === 1, 'the push handled');
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: ErrorCode.MeterPushUnknown } });
    const stray = encodeFrame({ dest: clientAddress(16), src: serverAddress(1, 16), control: { kind: 'RR', nr: 0, pf: true }, segmented: false, info: new Uint8Array(0) });
    await line.pushFrame(stray);
    await until(() => outcomes.length === 2, 'the stray frame handled');
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: ErrorCode.FramingUnexpectedFrame } });
    expect(rig.alarms()).toEqual([]);
    expect(rig.outbox()).toEqual([]);
  });
});
