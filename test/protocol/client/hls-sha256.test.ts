/**
 * HLS-SHA256 (mechanism 6) against the mini meter: client 3 on a plain LN context (system
 * titles still in the AARQ/AARE), client 4 with auth-enc ciphering. Right and wrong secret,
 * a meter whose f(CtoS) does not verify, and the secret kept out of logs and errors.
 */
import pino from 'pino';
import { DlmsClient, type ClientOptionsInput } from '../../../protocol/client/client';
import { systemClock } from '../../../protocol/common/clock';
import { ErrorCode, isDcuError } from '../../../protocol/common/errors';
import { concatBytes, toHex } from '../../../protocol/common/hex';
import type { Logger } from '../../../protocol/common/log';
import { PINO_REDACT_PATHS } from '../../../protocol/security';
import type { ApduHandler } from '../../../protocol/server/contract';
import { expectDcuErrorAsync as expectDcuError } from '../../helpers/dcu-error';
import { memoryTransportPair } from '../../helpers/memory-transport';
import { createMiniMeterServer, MINI_ENERGY, MINI_OBIS, MINI_SHA256 } from '../../helpers/mini-meter';
import { serveMeter } from '../../helpers/serve-meter';
import { secureSetup } from './secure-setup';

const energy = { classId: 3, obis: MINI_OBIS.energy, index: 2 };
const mechanismAttr = { classId: 15, obis: [0, 0, 40, 0, 0, 255] as const, index: 6 };
const contextAttr = { classId: 15, obis: [0, 0, 40, 0, 0, 255] as const, index: 4 };
/** Mechanism name OID 2.16.756.5.8.2.6 as BER content (AARQ field 8B). */
const SHA256_OID = '60857405080206';
/** Application context LN without ciphering, 2.16.756.5.8.1.1. */
const LN_OID = '60857405080101';

type Tamper = (answer: Uint8Array) => Uint8Array;

function plainSetup(framing: 'hdlc' | 'wrapper', client: Partial<ClientOptionsInput> = {}) {
  const [clientEnd, meterEnd] = memoryTransportPair();
  const { server } = createMiniMeterServer(systemClock);
  const hook: { tamper: Tamper | undefined } = { tamper: undefined };
  const handler: ApduHandler = {
    handle: (apdu, session) => {
      const answer = server.handle(apdu, session);
      return answer === undefined || hook.tamper === undefined ? answer : hook.tamper(answer);
    },
    release: (session) => server.release(session),
  };
  void meterEnd.open();
  serveMeter(meterEnd, handler, { framing });
  const c = new DlmsClient(clientEnd, {
    framing,
    clientAddress: MINI_SHA256.plainClientAddress,
    authentication: { mechanism: 'high-sha256', secret: MINI_SHA256.secret, systemTitle: MINI_SHA256.clientSystemTitle },
    responseTimeoutMs: 300,
    retries: 1,
    ...client,
  });
  return { client: c, hook, clientEnd };
}

function wrongSecret(): Uint8Array {
  const s = MINI_SHA256.secret.slice();
  s[0] = (s[0] ?? 0) ^ 1;
  return s;
}

const mechanismIdOf = (d: unknown): unknown => (d as { items: { value: unknown }[] }).items[6]?.value;

describe.each(['hdlc', 'wrapper'] as const)('HLS-SHA256 without ciphering over %s', (framing) => {
  it('associates on a plain LN context with both system titles and reads', async () => {
    const { client, clientEnd } = plainSetup(framing);
    const neg = await client.connect();
    expect(neg.serverSystemTitle).toEqual(MINI_SHA256.meterSystemTitle);
    expect(await client.getValue(energy)).toEqual({ type: 'uint32', value: MINI_ENERGY });
    expect(mechanismIdOf(await client.getValue({ ...mechanismAttr, obis: [...mechanismAttr.obis] }))).toBe(6);
    expect(mechanismIdOf(await client.getValue({ ...contextAttr, obis: [...contextAttr.obis] }))).toBe(1);
    const wire = toHex(concatBytes(clientEnd.written));
    expect(wire).toContain(SHA256_OID);
    expect(wire).toContain(LN_OID);
    expect(wire).toContain(toHex(MINI_SHA256.clientSystemTitle)); // calling AP title
    expect(wire).not.toMatch(/C8[0-9A-F]{2}30/); // no glo-get-request
    await client.close();
  });

  it('a wrong secret is AssociationAuthFailed and leaves no association', async () => {
    const { client } = plainSetup(framing, { authentication: { mechanism: 'high-sha256', secret: wrongSecret(), systemTitle: MINI_SHA256.clientSystemTitle } });
    const e = await expectDcuError(() => client.connect(), ErrorCode.AssociationAuthFailed);
    expect(e.message).toMatch(/refused our HLS-SHA256 reply/);
    expect(client.isAssociated).toBe(false);
    await client.close();
  });
});

describe('HLS-SHA256 checks', () => {
  it('a meter whose f(CtoS) does not verify is AssociationAuthFailed', async () => {
    const { client, hook } = plainSetup('wrapper');
    hook.tamper = (answer) => {
      // action-response normal with return data: flip the last byte of f(CtoS).
      if (answer[0] !== 0xc7 || answer.length < 40) return answer;
      const t = answer.slice();
      t[t.length - 1] = (t[t.length - 1] ?? 0) ^ 0x01;
      return t;
    };
    const e = await expectDcuError(() => client.connect(), ErrorCode.AssociationAuthFailed);
    expect(e.message).toMatch(/HLS-SHA256 reply does not verify/);
    expect(client.isAssociated).toBe(false);
    await client.close();
  });

  it('without security options our system title is required', async () => {
    const { client } = plainSetup('wrapper', { authentication: { mechanism: 'high-sha256', secret: MINI_SHA256.secret } });
    await expectDcuError(() => client.connect(), ErrorCode.SecurityUnsupported);
    await client.close();
  });

  it('a meter client configured for HLS-SHA256 refuses an HLS-GMAC AARQ (no silent mechanism change)', async () => {
    const { client } = secureSetup({ framing: 'wrapper', client: { clientAddress: MINI_SHA256.cipheredClientAddress } });
    const e = await expectDcuError(() => client.connect(), ErrorCode.AssociationAuthFailed);
    expect(e.message).toMatch(/authentication-mechanism-name-not-recognised|mechanism/);
    await client.close();
  });
});

describe.each(['hdlc', 'wrapper'] as const)('HLS-SHA256 with auth-enc ciphering over %s', (framing) => {
  const sha = { mechanism: 'high-sha256' as const, secret: MINI_SHA256.secret };

  it('associates ciphered, the AARQ names mechanism 6, service APDUs are glo-', async () => {
    const { client, clientEnd } = secureSetup({ framing, client: { clientAddress: MINI_SHA256.cipheredClientAddress, authentication: sha } });
    await client.connect();
    expect(await client.getValue(energy)).toEqual({ type: 'uint32', value: MINI_ENERGY });
    expect(mechanismIdOf(await client.getValue({ ...mechanismAttr, obis: [...mechanismAttr.obis] }))).toBe(6);
    expect(mechanismIdOf(await client.getValue({ ...contextAttr, obis: [...contextAttr.obis] }))).toBe(3);
    const wire = toHex(concatBytes(clientEnd.written));
    expect(wire).toContain(SHA256_OID);
    expect(wire).toMatch(/C8/);
    await client.close();
  });

  it('a wrong secret is AssociationAuthFailed', async () => {
    const { client } = secureSetup({ framing, client: { clientAddress: MINI_SHA256.cipheredClientAddress, authentication: { ...sha, secret: wrongSecret() } } });
    const e = await expectDcuError(() => client.connect(), ErrorCode.AssociationAuthFailed);
    expect(e.message).toMatch(/refused our HLS-SHA256 reply/);
    expect(client.isAssociated).toBe(false);
    await client.close();
  });
});

describe('the HLS secret stays out of logs and errors', () => {
  it('trace logs, the client options dump and the failure message show no form of it', async () => {
    let buffer = '';
    const logger = pino({ level: 'trace', redact: { paths: [...PINO_REDACT_PATHS], censor: '[redacted]' } }, { write: (s: string) => (buffer += s) }) as unknown as Logger;
    const ok = plainSetup('hdlc', { logger });
    await ok.client.connect();
    await ok.client.getValue(energy);
    logger.debug({ options: ok.client.options }, 'client options (secrets must be redacted)');
    await ok.client.close();

    const bad = wrongSecret();
    const wrong = plainSetup('hdlc', { logger, authentication: { mechanism: 'high-sha256', secret: bad, systemTitle: MINI_SHA256.clientSystemTitle } });
    let message = '';
    try {
      await wrong.client.connect();
    } catch (e) {
      expect(isDcuError(e)).toBe(true);
      message = isDcuError(e) ? `${e.message} ${JSON.stringify(e.context)}` : String(e);
      logger.error({ err: e }, message);
    }
    await wrong.client.close();

    expect(buffer).toMatch(/"rx"/);
    for (const secret of [MINI_SHA256.secret, bad]) {
      const text = Buffer.from(secret).toString('latin1');
      for (const f of [toHex(secret).toUpperCase(), toHex(secret).toLowerCase(), Buffer.from(secret).toString('base64'), text]) {
        expect(buffer.includes(f)).toBe(false);
        expect(message.includes(f)).toBe(false);
      }
    }
  });
});
