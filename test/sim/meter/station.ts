/**
 * The real DlmsClient talking to a simulated meter over an in-memory wrapper link (TCP
 * framing without a socket): meter end = the protocol's WrapperMeterStation → ApduHandler.
 */
import { systemClock } from '../../../protocol/common/clock';
import { DlmsClient } from '../../../protocol/client/client';
import type { ApduHandler } from '../../../protocol/server/contract';
import { FakeClock } from '../../../protocol/common/clock';
import { createSimMeter, type SimMeter } from '../../../sim/meter';
import type { SimMeterOptionsInput } from '../../../sim/meter/options';
import type { SimMeterSpec } from '../../../sim/types';
import { memoryTransportPair } from '../../helpers/memory-transport';
import { serveMeter } from '../../helpers/serve-meter';

/** 2026-03-10T12:07:30Z: a Tuesday, mid quarter hour. */
export const T0 = Date.UTC(2026, 2, 10, 12, 7, 30);

export const PASSWORDS = { reader: 'reader-pw', manager: 'manager-pw' } as const;

export function meterSpec(index = 0, overrides: Partial<SimMeterSpec> = {}): SimMeterSpec {
  return {
    index,
    serial: `SIM${String(index).padStart(6, '0')}`,
    physicalAddress: 0x10 + index,
    logicalDevice: 1,
    credentials: [
      { client: 16, auth: 'none' },
      { client: 17, auth: 'low', password: PASSWORDS.reader },
      { client: 1, auth: 'low', password: PASSWORDS.manager }, // management role over LLS; HLS: test/sim/hls-integration.test.ts
    ],
    rejectAssociations: false,
    seed: 1000 + index,
    ...overrides,
  };
}

export function newMeter(options: SimMeterOptionsInput = {}, spec = meterSpec(), clock = new FakeClock(T0)): { meter: SimMeter; clock: FakeClock; spec: SimMeterSpec } {
  return { meter: createSimMeter(spec, { clock }, options), clock, spec };
}

/** Serves `handler` on one end of a memory pair (the wrapper meter station); returns the other end for a client. */
export function serve(handler: ApduHandler) {
  const [clientEnd, meterEnd] = memoryTransportPair();
  void meterEnd.open();
  serveMeter(meterEnd, handler, { framing: 'wrapper' });
  return { clientEnd, meterEnd };
}

export type Role = 'public' | 'reader' | 'manager';

export async function connect(handler: ApduHandler, role: Role): Promise<DlmsClient> {
  const { clientEnd } = serve(handler);
  const te = new TextEncoder();
  const auth =
    role === 'public'
      ? { clientAddress: 16, authentication: { mechanism: 'none' as const } }
      : role === 'reader'
        ? { clientAddress: 17, authentication: { mechanism: 'low' as const, password: te.encode(PASSWORDS.reader) } }
        : { clientAddress: 1, authentication: { mechanism: 'low' as const, password: te.encode(PASSWORDS.manager) } };
  const client = new DlmsClient(clientEnd, { framing: 'wrapper', serverAddress: { logical: 1 }, clock: systemClock, responseTimeoutMs: 2000, retries: 0, ...auth });
  await client.connect();
  return client;
}
