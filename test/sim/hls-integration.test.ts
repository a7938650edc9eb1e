/**
 * Issue 4 against the simulator: the management client (1) of a simulated meter with
 * HLS-GMAC, authenticated and encrypted (suite 0): object list, load profile with block
 * transfer, clock set, a firmware image, and key rotation through global_key_transfer —
 * over a socat pty line (HDLC) and over TCP (wrapper).
 */
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { SIM_KEYS, simSystemTitle } from '../../sim/types';
import { DlmsClient, type ClientOptionsInput } from '../../protocol/client/client';
import { transferImage } from '../../protocol/client/image-transfer';
import { readClock, readObjectList, readProfile, setClock } from '../../protocol/client/reads';
import { ErrorCode, isDcuError } from '../../protocol/common/errors';
import { fromHex } from '../../protocol/common/hex';
import { obis } from '../../protocol/cosem/obis';
import { MemoryCounterStore, wrapKey } from '../../protocol/security';
import { SerialTransport } from '../../protocol/transport/serial';
import { TcpTransport } from '../../protocol/transport/tcp';
import type { ByteTransport } from '../../protocol/transport/types';

const CLIENT_TITLE = fromHex('4443553030303031'); // "DCU00001"
let fleet: RunningFleet | undefined;
const closers: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  await fleet?.stop();
  fleet = undefined;
});

function hlsClient(transport: ByteTransport, framing: 'hdlc' | 'wrapper', physical: number, over: Partial<ClientOptionsInput> = {}, store = new MemoryCounterStore(), blockKey = fromHex(SIM_KEYS.blockKey)): DlmsClient {
  const c = new DlmsClient(transport, {
    framing,
    clientAddress: 1,
    serverAddress: framing === 'hdlc' ? { logical: 1, physical, size: 2 } : { logical: 1 },
    authentication: { mechanism: 'high-gmac' },
    security: { policy: 'auth-enc', systemTitle: CLIENT_TITLE, blockKey, authKey: fromHex(SIM_KEYS.authKey), counterStore: store, counterKeyId: 'sim/1' },
    responseTimeoutMs: 1500,
    retries: 2,
    ...over,
  });
  closers.push(() => c.close());
  return c;
}

it('a full HLS-GMAC auth+enc session over a pty line: object list, profile in blocks, clock, firmware image', async () => {
  fleet = await startFleet(parseFleetConfig({ meters: 2, serialLines: 1, baud: 0, latencyMs: 0, jitterMs: 0 }));
  const ep = fleet.endpoints[1]!;
  const c = hlsClient(new SerialTransport({ path: fleet.lines[0]!.device, baudRate: 9600 }), 'hdlc', ep.physicalAddress);
  const neg = await c.connect();
  expect(neg.serverSystemTitle).toEqual(simSystemTitle(1));

  const list = await readObjectList(c);
  expect(list.some((e) => e.classId === 18)).toBe(true);
  // 2 days of 15-min rows: several GET blocks at the meter's 1,024-byte PDU, every one ciphered
  const now = Date.now();
  const lp = await readProfile(c, obis('1.0.99.1.0.255'), { from: now - 2 * 86_400_000, to: now });
  expect(lp.rows.length).toBeGreaterThanOrEqual(190);

  const target = Date.UTC(2031, 0, 1, 12);
  expect(await setClock(c, target)).toBe(0);
  expect(Math.abs(((await readClock(c)).epoch ?? 0) - target)).toBeLessThan(5000);

  const image = Uint8Array.from({ length: 32 * 1024 }, (_, i) => (i * 13) & 0xff);
  const report = await transferImage(c, { identifier: new TextEncoder().encode('FW-HLS'), image, pollIntervalMs: 50 });
  expect(report.status).toBe(6);
  const fw = await c.getValue({ classId: 1, obis: obis('1.0.0.2.0.255'), index: 2 });
  expect(fw.type === 'octet-string' && new TextDecoder().decode(fw.value)).toBe('FW-HLS');
}, 60_000);

it('rotates the block key with global_key_transfer over TCP; the old key is refused afterwards', async () => {
  const base = 20_000 + Math.floor(Math.random() * 30_000);
  fleet = await startFleet(parseFleetConfig({ meters: 1, tcpBasePort: base, latencyMs: 0, jitterMs: 0 }));
  const store = new MemoryCounterStore();
  const tcp = (): TcpTransport => new TcpTransport({ host: '127.0.0.1', port: base });
  const c = hlsClient(tcp(), 'wrapper', 16, {}, store);
  await c.connect();
  const newKey = Uint8Array.from({ length: 16 }, (_, i) => 0x60 + i);
  const wrapped = wrapKey(fromHex(SIM_KEYS.masterKey), newKey);
  const r = await c.action({ classId: 64, obis: [0, 0, 43, 0, 0, 255], index: 2 }, { type: 'array', items: [{ type: 'structure', items: [{ type: 'enum', value: 0 }, { type: 'octet-string', value: wrapped }] }] });
  expect(r.result).toBe(0);
  await c.close();

  const old = hlsClient(tcp(), 'wrapper', 16, {}, store);
  const err = await old.connect().catch((e: unknown) => e);
  expect(isDcuError(err) && err.code).toBe(ErrorCode.AssociationAuthFailed);

  const rotated = hlsClient(tcp(), 'wrapper', 16, {}, store, newKey);
  await rotated.connect();
  expect((await rotated.get({ classId: 3, obis: obis('1.0.1.8.0.255'), index: 2 })).ok).toBe(true);
});
