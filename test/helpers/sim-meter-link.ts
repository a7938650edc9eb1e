/**
 * A simulated meter (the real DLMS server under the simulator's model) behind an in-memory
 * HDLC link, and an LLS reading client on it: the fixture of daemon job tests. The meter runs
 * on its own FakeClock (skew it to test clock policies); the client on the system clock.
 */
import { DlmsClient } from '../../protocol/client/client';
import { FakeClock, systemClock } from '../../protocol/common/clock';
import { createSimMeter } from '../../sim/meter';
import type { SimMeterOptionsInput } from '../../sim/meter/options';
import { loneMeterSpec, type SimMeterSpec } from '../../sim/types';
import { memoryTransportPair } from './memory-transport';
import { serveMeter } from './serve-meter';

export const SIM_SPEC: SimMeterSpec = loneMeterSpec([{ client: 17, auth: 'low', password: '00000000' }], 7);

export function simMeterLink(meterStart: number, options: SimMeterOptionsInput = {}) {
  const clock = new FakeClock(meterStart);
  const meter = createSimMeter(SIM_SPEC, { clock }, { profileDepthDays: 10, ...options });
  const [clientEnd, meterEnd] = memoryTransportPair();
  void meterEnd.open();
  serveMeter(meterEnd, meter.handler, { framing: 'hdlc', address: { logical: 1, physical: 16, size: 2 } });
  const client = new DlmsClient(clientEnd, {
    framing: 'hdlc',
    clientAddress: 17,
    serverAddress: { logical: 1, physical: 16, size: 2 },
    authentication: { mechanism: 'low', password: new TextEncoder().encode('00000000') },
    responseTimeoutMs: 500,
    retries: 1,
    clock: systemClock,
  });
  return { clock, meter, client };
}
