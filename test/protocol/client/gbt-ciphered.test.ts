import { type Apdu, decodeApdu } from '../../../protocol/apdu';
import { conformance } from '../../../protocol/apdu/conformance';
import { DlmsClient } from '../../../protocol/client/client';
import { systemClock } from '../../../protocol/common/clock';
import { concatBytes } from '../../../protocol/common/hex';
import { MemoryCounterStore } from '../../../protocol/security';
import type { ApduHandler } from '../../../protocol/server/contract';
import { DEFAULT_SERVER_CONFORMANCE } from '../../../protocol/server/options';
import { memoryTransportPair } from '../../helpers/memory-transport';
import { createMiniMeterServer, MINI_HLS, MINI_OBIS, miniLongValue } from '../../helpers/mini-meter';
import { serveMeter } from '../../helpers/serve-meter';
import { secureSecurity } from './secure-setup';

/** HLS-GMAC, authenticated and encrypted, with a 256-byte PDU: GBT carries the ciphered APDUs. */
function setup(dedicatedKey: boolean) {
  const { server } = createMiniMeterServer(systemClock, {
    maxReceivePduSize: 256,
    conformance: conformance(...DEFAULT_SERVER_CONFORMANCE, 'general-block-transfer'),
  });
  const traffic: { dir: 'up' | 'down'; apdu: Apdu }[] = [];
  const handler: ApduHandler = {
    handle: (apdu, session) => server.handle(apdu, session),
    handleBurst: (apdu, session) => {
      traffic.push({ dir: 'up', apdu: decodeApdu(apdu) });
      const out = server.handleBurst(apdu, session);
      for (const a of out) traffic.push({ dir: 'down', apdu: decodeApdu(a) });
      return out;
    },
    release: (session) => server.release(session),
  };
  const [clientEnd, meterEnd] = memoryTransportPair();
  void meterEnd.open();
  serveMeter(meterEnd, handler, { framing: 'wrapper' });
  const client = new DlmsClient(clientEnd, {
    framing: 'wrapper',
    clientAddress: MINI_HLS.clientAddress,
    authentication: { mechanism: 'high-gmac' },
    security: secureSecurity(new MemoryCounterStore(), { counterSync: 'never', ...(dedicatedKey ? { dedicatedKey: true } : {}) }),
    responseTimeoutMs: 300,
    retries: 1,
    clock: systemClock,
  });
  return { client, traffic };
}

/** The messages as GBT carried them: block-data of consecutive data blocks, joined per direction run. */
function messages(traffic: readonly { dir: 'up' | 'down'; apdu: Apdu }[]): { dir: 'up' | 'down'; bytes: Uint8Array }[] {
  const out: { dir: 'up' | 'down'; bytes: Uint8Array }[] = [];
  let parts: Uint8Array[] = [];
  for (const t of traffic) {
    if (t.apdu.type !== 'general-block-transfer' || t.apdu.data.length === 0) continue;
    parts.push(t.apdu.data);
    if (t.apdu.lastBlock) {
      out.push({ dir: t.dir, bytes: concatBytes(parts) });
      parts = [];
    }
  }
  return out;
}

describe.each([false, true])('GBT on a ciphered association (dedicated key: %s)', (dedicatedKey) => {
  it('splits the ciphered APDU both ways and deciphers the reassembled one', async () => {
    const { client, traffic } = setup(dedicatedKey);
    await client.connect();
    const ref = { classId: 1, obis: MINI_OBIS.longData, index: 2 };
    expect(await client.getValue(ref)).toEqual({ type: 'octet-string', value: miniLongValue() });
    const changed = miniLongValue().map((b) => b ^ 0x5a);
    expect(await client.set(ref, { type: 'octet-string', value: changed })).toBe(0);
    expect(await client.getValue(ref)).toEqual({ type: 'octet-string', value: changed });
    await client.close();
    const m = messages(traffic);
    // glo-/ded- tags: get-request C8/D0, set-request C9/D1, get-response CC/D4, set-response CD/D5.
    const g = dedicatedKey ? 0x10 : 0x08;
    const longDown = m.filter((x) => x.dir === 'down' && x.bytes.length > 256);
    const longUp = m.filter((x) => x.dir === 'up' && x.bytes.length > 256);
    expect(longDown.length).toBe(2);
    expect(longUp.length).toBe(1);
    for (const x of longDown) expect(x.bytes[0]).toBe(0xc4 + g);
    expect(longUp[0]?.bytes[0]).toBe(0xc1 + g);
    // No plain service APDU inside any GBT message, and no GBT APDU over the PDU.
    for (const x of m) expect([0xc0, 0xc1, 0xc3, 0xc4, 0xc5, 0xc7]).not.toContain(x.bytes[0]);
  });
});
