import { DataAccessResult } from '../../../protocol/apdu/results';
import { DlmsClient } from '../../../protocol/client/client';
import { readClock, readObjectList, readProfile, setClock } from '../../../protocol/client/reads';
import { ErrorCode } from '../../../protocol/common/errors';
import { concatBytes, toHex } from '../../../protocol/common/hex';
import { obisEquals } from '../../../protocol/cosem/obis';
import { MemoryCounterStore, wrapKey } from '../../../protocol/security';
import { expectDcuErrorAsync as expectDcuError } from '../../helpers/dcu-error';
import { systemClock } from '../../../protocol/common/clock';
import { readOnlyPolicy } from '../../../protocol/server/access';
import { DlmsServer } from '../../../protocol/server/server';
import { memoryTransportPair } from '../../helpers/memory-transport';
import { createMiniMeter, MINI_ENERGY, MINI_HLS, MINI_HLS_CLIENT, MINI_OBIS, MINI_PROFILE_ROWS, MINI_PROFILE_START } from '../../helpers/mini-meter';
import { serveMeter } from '../../helpers/serve-meter';
import { secureSetup } from './secure-setup';

const energy = { classId: 3, obis: MINI_OBIS.energy, index: 2 };

describe.each(['hdlc', 'wrapper'] as const)('HLS-GMAC with auth-enc ciphering over %s', (framing) => {
  it('associates, lists objects, reads a profile in blocks and sets the clock, all ciphered', async () => {
    const { client, store, clientEnd } = secureSetup({ framing, limits: { maxReceivePduSize: 256 }, client: { maxPduSize: 256 } });
    const neg = await client.connect();
    expect(neg.serverSystemTitle).toEqual(MINI_HLS.meterSystemTitle);
    expect(await client.getValue(energy)).toEqual({ type: 'uint32', value: MINI_ENERGY });

    const list = await readObjectList(client);
    expect(list.some((e) => e.classId === 7 && obisEquals(e.obis, MINI_OBIS.profile))).toBe(true);
    expect(list.some((e) => e.classId === 64)).toBe(true);

    const profile = await readProfile(client, MINI_OBIS.profile);
    expect(profile.rows).toHaveLength(MINI_PROFILE_ROWS);
    expect(profile.rows[3]?.timestamp).toBe(MINI_PROFILE_START + 3 * 900_000);

    const target = Date.UTC(2031, 0, 2, 3, 4, 5);
    expect(await setClock(client, target)).toBe(DataAccessResult.success);
    expect(Math.abs(((await readClock(client)).epoch ?? 0) - target)).toBeLessThan(3000);

    // Besides the public client's invocation counter read, no plain GET/SET/ACTION goes out; ciphered glo-GETs do.
    const wire = toHex(concatBytes(clientEnd.written)).toLowerCase();
    const from2 = framing === 'hdlc' ? 'e6e600' : '000100020001[0-9a-f]{4}';
    const plain = framing === 'hdlc' ? /e6e600c[013]/g : /000100020001[0-9a-f]{4}c[013]/g;
    expect(wire.match(plain)?.length ?? 0).toBe(framing === 'hdlc' ? 1 : 0);
    expect(wire).toMatch(new RegExp(`${from2}c8`));
    // Counters were reserved from the store: one per ciphered APDU plus f(StoC).
    expect(await store.peek('mini/guek')).toBeGreaterThan(10);
    await client.close();
  });

  it('uses ded- APDUs with a dedicated key', async () => {
    const { client, clientEnd } = secureSetup({ framing, security: { dedicatedKey: true } });
    await client.connect();
    expect(await client.getValue(energy)).toEqual({ type: 'uint32', value: MINI_ENERGY });
    expect(toHex(concatBytes(clientEnd.written)).toLowerCase()).toMatch(/d0[0-9a-f]{2}30/);
    await client.close();
  });

  it('refuses a wrong authentication key with AssociationAuthFailed', async () => {
    const authKey = MINI_HLS.authKey.slice();
    authKey[0] = (authKey[0] ?? 0) ^ 1;
    const { client } = secureSetup({ framing, security: { authKey } });
    await expectDcuError(() => client.connect(), ErrorCode.AssociationAuthFailed);
    await client.close();
  });

  it('refuses a wrong block key with AssociationAuthFailed (no counter sync)', async () => {
    const { client } = secureSetup({ framing, security: { blockKey: new Uint8Array(16), counterSync: 'never' } });
    await expectDcuError(() => client.connect(), ErrorCode.AssociationAuthFailed);
    await client.close();
  });
});

describe('secured client against tampering and replays', () => {
  it('rejects a response whose GCM tag has a flipped bit', async () => {
    const { client, hook } = secureSetup();
    await client.connect();
    hook.tamper = (answer) => {
      if (answer[0] !== 0xcc) return answer;
      const t = answer.slice();
      t[t.length - 1] = (t[t.length - 1] ?? 0) ^ 0x01;
      return t;
    };
    await expectDcuError(() => client.get(energy), ErrorCode.SecurityBadTag);
    await client.close();
  });

  it('rejects a replayed response counter with SecurityReplay', async () => {
    const { client, hook } = secureSetup();
    await client.connect();
    let first: Uint8Array | undefined;
    hook.tamper = (answer) => {
      if (answer[0] !== 0xcc) return answer;
      first ??= answer;
      return first;
    };
    expect(await client.getValue(energy)).toEqual({ type: 'uint32', value: MINI_ENERGY });
    await expectDcuError(() => client.get(energy), ErrorCode.SecurityReplay);
    await client.close();
  });

  it('resynchronises a stale counter from 0.0.43.1.0.255 and continues above it', async () => {
    const shared = secureSetup();
    await shared.client.connect();
    await shared.client.getValue(energy);
    const used = await shared.store.peek('mini/guek');
    await shared.client.detach();
    // A second client whose store lags behind (restored backup): the meter refuses its AARQ.
    const stale = new MemoryCounterStore({ 'mini/guek': 1 });
    const again = new DlmsClient(shared.clientEnd, { ...shared.client.options, security: { ...shared.client.options.security!, counterStore: stale } });
    await again.connect();
    expect(await again.getValue(energy)).toEqual({ type: 'uint32', value: MINI_ENERGY });
    expect(await stale.peek('mini/guek')).toBeGreaterThan(used);
    await again.close();
  });

  it('rotates keys with global_key_transfer; they take effect for the next association', async () => {
    const { client, server, clientEnd } = secureSetup();
    await client.connect();
    const newBlock = Uint8Array.from({ length: 16 }, (_, i) => 0x40 + i);
    const params = { type: 'array' as const, items: [{ type: 'structure' as const, items: [{ type: 'enum' as const, value: 0 }, { type: 'octet-string' as const, value: wrapKey(MINI_HLS.masterKey, newBlock) }] }] };
    const r = await client.action({ classId: 64, obis: [0, 0, 43, 0, 0, 255], index: 2 }, params);
    expect(r.result).toBe(0);
    // Still the old key in this association.
    expect(await client.getValue(energy)).toEqual({ type: 'uint32', value: MINI_ENERGY });
    await client.release();
    expect(server.securitySetup(0)?.blockKey).toEqual(MINI_HLS.blockKey);
    await expectDcuError(() => client.connect(), ErrorCode.AssociationAuthFailed);
    expect(server.securitySetup(0)?.blockKey).toEqual(newBlock);
    await client.detach();
    const rotated = new DlmsClient(clientEnd, { ...client.options, security: { ...client.options.security!, blockKey: newBlock } });
    await rotated.connect();
    expect(await rotated.getValue(energy)).toEqual({ type: 'uint32', value: MINI_ENERGY });
    await rotated.close();
  });
});

describe('HLS-GMAC without ciphering (policy none: plain LN context, keys checked in pass 3/4)', () => {
  function plainHls(authKey: Uint8Array) {
    const [clientEnd, meterEnd] = memoryTransportPair();
    const meter = createMiniMeter();
    const server = new DlmsServer({
      model: meter.model,
      clock: systemClock,
      clients: [{ ...MINI_HLS_CLIENT, security: { ...MINI_HLS_CLIENT.security!, policy: 'none' } }, { clientAddress: 16, authentication: { mechanism: 'none' }, access: readOnlyPolicy }],
    });
    void meterEnd.open();
    serveMeter(meterEnd, server, { framing: 'wrapper' });
    return new DlmsClient(clientEnd, {
      framing: 'wrapper',
      clientAddress: MINI_HLS.clientAddress,
      authentication: { mechanism: 'high-gmac' },
      security: { policy: 'none', systemTitle: MINI_HLS.clientSystemTitle, blockKey: MINI_HLS.blockKey, authKey, counterStore: new MemoryCounterStore(), counterKeyId: 'k' },
      responseTimeoutMs: 300,
      retries: 1,
    });
  }

  it('authenticates both ways and reads in clear', async () => {
    const client = plainHls(MINI_HLS.authKey);
    await client.connect();
    expect(await client.getValue(energy)).toEqual({ type: 'uint32', value: MINI_ENERGY });
    await client.close();
  });

  it('fails with AssociationAuthFailed when the meter rejects f(StoC)', async () => {
    const client = plainHls(new Uint8Array(16));
    await expectDcuError(() => client.connect(), ErrorCode.AssociationAuthFailed);
    await client.close();
  });
});
