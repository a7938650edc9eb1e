/**
 * HLS-SHA256 (mechanism 6) credentials of the simulator: the config parser accepts
 * `{client, auth: 'high-sha256', secret}` (text or hex:, never echoed in errors), clientConfigs
 * maps it (plain by default, ciphered with a policy; meter system title simSystemTitle(index)),
 * and a DlmsClient associates with a simulated meter over TCP, with and without ciphering.
 */
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { clientConfigs, secretBytes } from '../../sim/meter/access';
import { SIM_KEYS, simSystemTitle, type ClientCredential } from '../../sim/types';
import { DlmsClient, type ClientOptionsInput } from '../../protocol/client/client';
import { readClock } from '../../protocol/client/reads';
import { ErrorCode, isDcuError } from '../../protocol/common/errors';
import { fromHex } from '../../protocol/common/hex';
import { MemoryCounterStore } from '../../protocol/security';
import { TcpTransport } from '../../protocol/transport/tcp';

const CLIENT_TITLE = fromHex('4443553030303032'); // "DCU00002"
const SECRET = 'sim-sha256-secret';
const SECRET_HEX = '000102030405060708090A0B0C0D0E0F';

const credentials: ClientCredential[] = [
  { client: 16, auth: 'none' },
  { client: 2, auth: 'high-sha256', secret: SECRET },
  { client: 3, auth: 'high-sha256', secret: `hex:${SECRET_HEX}`, policy: 'auth-enc' },
];

function configError(raw: unknown): { message: string; field: unknown } {
  try {
    parseFleetConfig(raw);
  } catch (e) {
    if (isDcuError(e) && e.code === ErrorCode.Config) return { message: e.message, field: e.context['field'] };
    throw e;
  }
  throw new Error('no error');
}

describe('simulator HLS-SHA256 credentials', () => {
  it('are parsed, text or hex: secret, with an optional policy', () => {
    const c = parseFleetConfig({ meters: 1, tcpBasePort: 4059, credentials });
    expect(c.credentials).toEqual(credentials);
  });

  it('need a usable secret, which no error message repeats', () => {
    const missing = configError({ meters: 1, tcpBasePort: 4059, credentials: [{ client: 2, auth: 'high-sha256' }] });
    expect(missing.field).toBe('credentials[0].secret');
    const long = 'x'.repeat(65);
    const tooLong = configError({ meters: 1, tcpBasePort: 4059, credentials: [{ client: 2, auth: 'high-sha256', secret: long }] });
    expect(tooLong.field).toBe('credentials[0].secret');
    expect(tooLong.message.includes(long)).toBe(false);
    const badHex = configError({ meters: 1, tcpBasePort: 4059, credentials: [{ client: 2, auth: 'high-sha256', secret: 'hex:0G' }] });
    expect(badHex.field).toBe('credentials[0].secret');
    const stray = configError({ meters: 1, tcpBasePort: 4059, credentials: [{ client: 17, auth: 'low', password: 'x', secret: SECRET }] });
    expect(stray.field).toBe('credentials[0].secret');
    expect(stray.message.includes(SECRET)).toBe(false);
  });

  it('map to server client configs: plain by default, ciphered with a policy', () => {
    const title = simSystemTitle(5);
    const [, plain, ciphered] = clientConfigs(credentials, title);
    expect(plain?.authentication).toEqual({ mechanism: 'high-sha256', secret: new TextEncoder().encode(SECRET), systemTitle: title });
    expect(plain?.security).toBeUndefined();
    expect(ciphered?.authentication).toEqual({ mechanism: 'high-sha256', secret: fromHex(SECRET_HEX), systemTitle: title });
    expect(ciphered?.security).toMatchObject({ policy: 'auth-enc', systemTitle: title, blockKey: fromHex(SIM_KEYS.blockKey), authKey: fromHex(SIM_KEYS.authKey) });
    expect(secretBytes('hex:0aff')).toEqual(Uint8Array.of(0x0a, 0xff));
  });
});

describe('a DlmsClient with HLS-SHA256 against a simulated meter over TCP', () => {
  let fleet: RunningFleet | undefined;
  let base = 0;
  const clients: DlmsClient[] = [];

  beforeAll(async () => {
    base = 20_000 + Math.floor(Math.random() * 30_000);
    fleet = await startFleet(parseFleetConfig({ meters: 1, tcpBasePort: base, latencyMs: 0, jitterMs: 0, credentials }));
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  });

  afterAll(async () => {
    await fleet?.stop();
  });

  function client(over: Partial<ClientOptionsInput>): DlmsClient {
    const c = new DlmsClient(new TcpTransport({ host: '127.0.0.1', port: base }), { framing: 'wrapper', responseTimeoutMs: 1500, retries: 1, ...over });
    clients.push(c);
    return c;
  }

  it('associates on a plain LN context and reads the clock', async () => {
    const c = client({ clientAddress: 2, authentication: { mechanism: 'high-sha256', secret: new TextEncoder().encode(SECRET), systemTitle: CLIENT_TITLE } });
    const neg = await c.connect();
    expect(neg.serverSystemTitle).toEqual(simSystemTitle(0));
    expect((await readClock(c)).epoch).toEqual(expect.any(Number));
  });

  it('associates with auth-enc ciphering (secret given as hex:)', async () => {
    const c = client({
      clientAddress: 3,
      authentication: { mechanism: 'high-sha256', secret: fromHex(SECRET_HEX) },
      security: { policy: 'auth-enc', systemTitle: CLIENT_TITLE, blockKey: fromHex(SIM_KEYS.blockKey), authKey: fromHex(SIM_KEYS.authKey), counterStore: new MemoryCounterStore(), counterKeyId: 'sim/3' },
    });
    await c.connect();
    expect((await readClock(c)).epoch).toEqual(expect.any(Number));
  });

  it('a wrong secret is AssociationAuthFailed', async () => {
    const c = client({ clientAddress: 2, authentication: { mechanism: 'high-sha256', secret: new TextEncoder().encode(`${SECRET}!`), systemTitle: CLIENT_TITLE } });
    await expect(c.connect()).rejects.toMatchObject({ code: ErrorCode.AssociationAuthFailed });
  });
});
