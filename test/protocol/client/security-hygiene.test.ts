/**
 * Key and counter hygiene of the secured client: counters are never reused across a crash
 * (a child process reserves, ciphers and SIGKILLs itself), and no key reaches a trace-level
 * pino log or an error message.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { readObjectList } from '../../../protocol/client/reads';
import { isDcuError } from '../../../protocol/common/errors';
import { toHex } from '../../../protocol/common/hex';
import type { Logger } from '../../../protocol/common/log';
import { PINO_REDACT_PATHS } from '../../../protocol/security';
import { FileCounterStore } from '../../../storage/counter-file';
import { MINI_HLS, MINI_OBIS } from '../../helpers/mini-meter';
import { secureSetup } from './secure-setup';

/** Plain node with a require hook that compiles .ts with @swc/core, then runs argv[1]. */
const TS_RUNNER = `
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');
require.extensions['.ts'] = (m, filename) => {
  const opts = { filename, module: { type: 'commonjs' }, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } };
  m._compile(transformSync(readFileSync(filename, 'utf8'), opts).code, filename);
};
require(process.argv[1]);
`;

function runFixture(counterFile: string): Promise<{ signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const fixture = join(__dirname, 'fixtures', 'reserve-and-crash.ts');
    const child = spawn(process.execPath, ['-e', TS_RUNNER, fixture, counterFile], { stdio: ['ignore', 'pipe', 'pipe'], cwd: join(__dirname, '..', '..', '..') });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal, stdout, stderr }));
  });
}

describe('invocation counters across a crash', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-ic-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('never reuses a counter after the client process is killed between reserving and sending', async () => {
    const file = join(dir, 'counters.json');
    const first = await runFixture(file);
    expect(first.stderr).toBe('');
    expect(first.signal).toBe('SIGKILL');
    const second = await runFixture(file);
    expect(second.signal).toBe('SIGKILL');
    const a = Number(first.stdout.trim());
    const b = Number(second.stdout.trim());
    expect(Number.isInteger(a)).toBe(true);
    expect(b).toBeGreaterThan(a);
    // And a third process (this one) continues above both.
    const next = await new FileCounterStore({ path: file }).reserve('meter-1/guek');
    expect(next).toBeGreaterThan(b);
  }, 30_000);
});

describe('keys stay out of logs and errors', () => {
  const dedicated = Uint8Array.from({ length: 16 }, (_, i) => 0x70 + i);

  function forms(key: Uint8Array): string[] {
    const hex = toHex(key);
    return [hex.toUpperCase(), hex.toLowerCase(), toHex(key, ' ').toUpperCase(), toHex(key, ' ').toLowerCase(), Buffer.from(key).toString('base64')];
  }

  it('a ciphered session logged at trace level shows no key in hex or base64', async () => {
    let buffer = '';
    const logger = pino({ level: 'trace', redact: { paths: [...PINO_REDACT_PATHS], censor: '[redacted]' } }, { write: (s: string) => (buffer += s) }) as unknown as Logger;
    let first = true;
    const random = (n: number): Uint8Array => {
      // The first 16 random bytes become the dedicated key; challenges get other bytes.
      if (first && n === 16) {
        first = false;
        return dedicated.slice();
      }
      return Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
    };
    const { client } = secureSetup({ logger, security: { dedicatedKey: true, random } });
    await client.connect();
    await readObjectList(client);
    await client.getValue({ classId: 7, obis: MINI_OBIS.profile, index: 3 });
    logger.debug({ options: client.options }, 'client options (secrets must be redacted)');
    await client.close();

    // A failing association's error, logged as the daemon does.
    const wrong = secureSetup({ logger, security: { authKey: MINI_HLS.blockKey, blockKey: MINI_HLS.authKey } });
    try {
      await wrong.client.connect();
    } catch (e) {
      expect(isDcuError(e)).toBe(true);
      logger.error({ err: e, context: isDcuError(e) ? e.context : {} }, isDcuError(e) ? e.message : String(e));
    }
    await wrong.client.close();

    expect(buffer).toMatch(/"rx"/); // frames were traced
    expect(buffer.length).toBeGreaterThan(1000);
    for (const key of [MINI_HLS.blockKey, MINI_HLS.authKey, MINI_HLS.masterKey, dedicated]) {
      for (const f of forms(key)) expect(buffer.includes(f)).toBe(false);
    }
  });
});
