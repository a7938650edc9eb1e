/** The simulated meter behind the HDLC secondary station: segmented frames, GET blocks, the plumbing's factory shape. */
import { decodeApdu, encodeApdu } from '../../../protocol/apdu';
import { conformance } from '../../../protocol/apdu/conformance';
import { invokeIdAndPriority } from '../../../protocol/apdu/invoke';
import { decodeData } from '../../../protocol/axdr/codec';
import { concatBytes } from '../../../protocol/common/hex';
import { obisToBytes } from '../../../protocol/cosem/obis';
import { encodeAccessSelector, rangeByEntry } from '../../../protocol/cosem/selective-access';
import { createSimMeter, energyAt, METER_OBJECTS } from '../../../sim/meter';
import type { SimMeterFactory } from '../../../sim/types';
import { HdlcLoop } from '../../helpers/hdlc-loop';
import { meterSpec } from './station';

// The plumbing's factory type accepts createSimMeter as it is.
const factory: SimMeterFactory = createSimMeter;

describe('simulated meter over HDLC', () => {
  it('associates and reads profile entries in GET blocks over segmented I-frames', () => {
    const session = { id: 'hdlc-1', clientAddress: 17 };
    const spec = meterSpec(3, { credentials: [{ client: 16, auth: 'none' }, { client: 17, auth: 'none' }] });
    const holder: { meter?: ReturnType<SimMeterFactory> } = {};
    const loop = new HdlcLoop({ link: { client: 17 }, handler: (apdu) => holder.meter?.handler.handle(apdu, session) });
    holder.meter = factory(spec, { clock: loop.clock });
    loop.connect();
    const aare = loop.request(
      encodeApdu({
        type: 'aarq',
        applicationContext: 'ln',
        userInformation: {
          kind: 'initiate-request',
          request: { responseAllowed: true, proposedDlmsVersion: 6, proposedConformance: conformance('get', 'selective-access', 'block-transfer-with-get-or-read'), clientMaxReceivePduSize: 512 },
        },
      }),
    );
    expect(aare === undefined ? undefined : decodeApdu(aare)).toMatchObject({ type: 'aare', result: 'accepted' });

    const invoke = invokeIdAndPriority(1);
    const attribute = { classId: 7, instanceId: obisToBytes(METER_OBJECTS.loadProfile.obis), attributeId: 2 };
    const parts: Uint8Array[] = [];
    let answer = loop.request(encodeApdu({ type: 'get-request', kind: 'normal', invoke, attribute, access: encodeAccessSelector(rangeByEntry(5701)) }));
    for (let guard = 0; guard < 100; guard++) {
      const a = answer === undefined ? undefined : decodeApdu(answer);
      if (a?.type !== 'get-response' || a.kind !== 'with-datablock' || a.result.kind !== 'raw') throw new Error(`unexpected answer ${JSON.stringify(a?.type)}`);
      parts.push(a.result.raw);
      if (a.lastBlock) break;
      answer = loop.request(encodeApdu({ type: 'get-request', kind: 'next', invoke, blockNumber: a.blockNumber }));
    }
    expect(parts.length).toBeGreaterThan(1);
    const buffer = decodeData(concatBytes(parts));
    expect(buffer.type === 'array' && buffer.items.length).toBe(60);
    const newest = Math.floor(loop.clock.now() / 900_000) * 900_000;
    const last = buffer.type === 'array' ? buffer.items[59] : undefined;
    expect(last?.type === 'structure' && last.items[2]).toEqual({ type: 'uint32', value: energyAt(spec, newest).activeImport });
  });
});
