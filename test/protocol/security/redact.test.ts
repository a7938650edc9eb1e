import { Writable } from 'node:stream';
import pino from 'pino';
import { fromHex } from '../../../protocol/common/hex';
import { PINO_REDACT_PATHS, REDACTED, isSecretFieldName, redactKeys, redactSecrets } from '../../../protocol/security/redact';

const EK_HEX = '000102030405060708090A0B0C0D0E0F';

describe('redactKeys', () => {
  it('masks secret-named fields at any depth and keeps the rest', () => {
    const input = {
      meter: 'm1',
      security: { blockKey: fromHex(EK_HEX), authKey: 'D0D1', systemTitle: 'ABCDEFGH', keyId: 'guek' },
      list: [{ password: 'Gurux' }, { hlsSecret: 'x', n: 1 }],
      nested: { a: { b: { masterKey: 'k', kek: 'k', apiKey: 'k' } } },
    };
    const out = redactKeys(input);
    expect(out).toEqual({
      meter: 'm1',
      security: { blockKey: REDACTED, authKey: REDACTED, systemTitle: 'ABCDEFGH', keyId: 'guek' },
      list: [{ password: REDACTED }, { hlsSecret: REDACTED, n: 1 }],
      nested: { a: { b: { masterKey: REDACTED, kek: REDACTED, apiKey: REDACTED } } },
    });
    expect(input.list[0]!.password).toBe('Gurux'); // input untouched
  });

  it('survives cycles, maps and errors', () => {
    const a: Record<string, unknown> = { password: 'p' };
    a.self = a;
    const out = redactKeys({ a, m: new Map([['authKey', 'x']]), e: new Error('boom') }) as Record<string, unknown>;
    expect((out.a as Record<string, unknown>).self).toBe('[Circular]');
    expect((out.m as Map<string, unknown>).get('authKey')).toBe(REDACTED);
    expect((out.e as Record<string, unknown>).message).toBe('boom');
  });

  it('recognises secret names', () => {
    for (const n of ['blockKey', 'authenticationKey', 'llsPassword', 'secret', 'kek', 'pwd']) expect(isSecretFieldName(n)).toBe(true);
    for (const n of ['keyId', 'keyKind', 'systemTitle', 'monkeys']) expect(isSecretFieldName(n)).toBe(false);
  });
});

describe('redactSecrets', () => {
  it('removes a key in any hex spelling and a password in clear', () => {
    const text = `EK=${EK_HEX} ek=${EK_HEX.toLowerCase()} spaced=00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F pw=Gurux`;
    const out = redactSecrets(text, [fromHex(EK_HEX), new TextEncoder().encode('Gurux')]);
    expect(out).not.toMatch(/0001020304|Gurux/i);
    expect(out.split(REDACTED)).toHaveLength(5);
  });
});

describe('PINO_REDACT_PATHS', () => {
  it('keeps keys and passwords out of pino output', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = pino({ redact: { paths: [...PINO_REDACT_PATHS], censor: REDACTED } }, sink);
    log.info({ password: 'Gurux', meter: { blockKey: EK_HEX, security: { authKey: 'D0D1D2D3' } } }, 'associating');
    const text = lines.join('');
    expect(text).toContain('associating');
    expect(text).not.toMatch(/Gurux|000102030405|D0D1D2D3/);
  });
});
