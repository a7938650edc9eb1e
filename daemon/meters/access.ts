/**
 * How the daemon talks to one registered meter: DlmsClient options from the registry's
 * access record (client, mechanism, credentials) and the line. Keys come from a key file
 * (production) or inline (tests); invocation counters from the SQLite store, one key id per
 * meter and key. A credential problem is a typed Config error for that meter only.
 */
import { keySourceFile, readKeyFile } from '../../config/key-files';
import type { ClientOptionsInput } from '../../protocol/client/client';
import type { Authentication } from '../../protocol/client/options';
import type { Clock } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { fromHex } from '../../protocol/common/hex';
import type { Logger } from '../../protocol/common/log';
import type { InvocationCounterStore } from '../../protocol/security/counters';
import type { MeterRecord } from '../../storage/meters';
import type { LineRuntime, MeterAddress } from '../lines/line';

export interface AccessDeps {
  /** Where `keys: { name }` files live (config keysDir). */
  readonly keysDir: string;
  readonly clock: Clock;
  readonly counters: InvocationCounterStore;
  readonly logger: Logger;
}

function credentialError(serial: string, message: string, cause?: unknown): DcuError {
  return new DcuError(ErrorCode.Config, `meter ${serial}: ${message}`, { cause, context: { meter: serial } });
}

function hex(serial: string, text: string | undefined, what: string, length: number): Uint8Array {
  if (text === undefined || !new RegExp(`^([0-9A-Fa-f]{2}){${length}}$`).test(text)) throw credentialError(serial, `${what} must be ${length} bytes in hex`);
  return fromHex(text);
}

/**
 * The meter's keys: inline, or read (again, it may have changed) from its key file — by name
 * in `keysDir`, or by path for a meter of the configuration file. A path is never taken from
 * a meter the HES or the API registered (rows from before remote commands were refused file
 * paths included): remote commands never name files on the box.
 */
export function loadKeys(m: MeterRecord, keysDir: string): { blockKey: Uint8Array; authKey: Uint8Array } {
  const keys = m.access.keys;
  if (keys === undefined) throw credentialError(m.serial, 'no keys configured for HLS/ciphering');
  if ('file' in keys && m.source !== 'config') {
    throw credentialError(m.serial, `keys name a file on the box (${keys.file}) but the meter was registered by ${m.source === 'hes' ? 'the HES' : 'the local API'}: remote commands never name files; give the keys inline or by name in keysDir (meter-update keys: {name: NAME})`);
  }
  const file = keySourceFile(keys, keysDir);
  if (file !== undefined) {
    // checked at start, on SIGHUP and at registration already; read again here, the file may have changed since
    const r = readKeyFile(file);
    if (!r.ok) throw credentialError(m.serial, `key file ${file} ${r.problem}`);
    return { blockKey: fromHex(r.keys.blockKey), authKey: fromHex(r.keys.authKey) };
  }
  if (!('blockKey' in keys)) throw credentialError(m.serial, 'no keys configured for HLS/ciphering');
  return { blockKey: hex(m.serial, keys.blockKey, 'blockKey', 16), authKey: hex(m.serial, keys.authKey, 'authKey', 16) };
}

function authenticationOf(m: MeterRecord): Authentication {
  const a = m.access;
  switch (a.auth) {
    case 'none':
      return { mechanism: 'none' };
    case 'low':
      return { mechanism: 'low', password: new TextEncoder().encode(a.password ?? '') };
    case 'high-gmac':
      return { mechanism: 'high-gmac' };
    case 'high-sha256':
      return { mechanism: 'high-sha256', secret: new TextEncoder().encode(a.secret ?? ''), systemTitle: hex(m.serial, a.systemTitle, 'systemTitle', 8) };
  }
}

/** The public client a secured association uses first to read the meter's invocation counter. */
export const PUBLIC_CLIENT = 16;

export function isCiphered(m: MeterRecord): boolean {
  return m.access.auth === 'high-gmac' || (m.access.security !== undefined && m.access.security !== 'none');
}

export function clientOptionsFor(m: MeterRecord, line: LineRuntime, address: MeterAddress, deps: AccessDeps): ClientOptionsInput {
  const a = m.access;
  const ciphered = isCiphered(m);
  const options: ClientOptionsInput = {
    framing: line.framing,
    clientAddress: a.client,
    serverAddress: address.server,
    authentication: authenticationOf(m),
    responseTimeoutMs: line.timeoutMs,
    retries: line.retries,
    onRetry: (frames) => {
      line.traffic.framesRetried += frames;
    },
    clock: deps.clock,
    logger: deps.logger,
    deviationConvention: a.deviationSign,
    ...(a.gbt ? {} : { gbt: { enabled: false } }),
  };
  if (!ciphered) return options;
  const systemTitle = hex(m.serial, a.systemTitle, 'systemTitle', 8);
  return {
    ...options,
    security: {
      policy: a.security ?? 'auth-enc',
      systemTitle,
      ...loadKeys(m, deps.keysDir),
      counterStore: deps.counters,
      counterKeyId: `${m.serial}/${a.client}/guek`,
    },
  };
}
