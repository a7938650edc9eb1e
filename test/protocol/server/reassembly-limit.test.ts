import { DataAccessResult } from '../../../protocol/apdu/results';
import type { Apdu } from '../../../protocol/apdu';
import { FakeClock } from '../../../protocol/common/clock';
import { createMiniMeterServer } from '../../helpers/mini-meter';
import { INVOKE, associate, attr, call, session } from './harness';

const LONG = attr(1, '0.0.96.128.0.255', 2);

function setup() {
  const { server } = createMiniMeterServer(new FakeClock(), { maxReceivePduSize: 256, maxReassembledBytes: 300 });
  const s = session(1);
  expect(associate(server, s, { mechanism: 'lls', password: '12345678' }).result).toBe('accepted');
  return (a: Apdu) => call(server, s, a);
}

const block = (blockNumber: number, lastBlock = false) => ({ lastBlock, blockNumber, raw: new Uint8Array(200).fill(0x11) });

describe('DlmsServer reassembly limit (limits.maxReassembledBytes)', () => {
  it('aborts a SET whose blocks exceed the limit instead of gathering them', () => {
    const req = setup();
    const first = req({ type: 'set-request', kind: 'with-first-datablock', invoke: INVOKE, attribute: LONG, block: block(1) });
    expect(first).toMatchObject({ type: 'set-response', kind: 'datablock', blockNumber: 1 });
    const second = req({ type: 'set-request', kind: 'with-datablock', invoke: INVOKE, block: block(2) });
    expect(second).toMatchObject({ type: 'set-response', kind: 'last-datablock', result: DataAccessResult.longSetAborted });
  });
});
