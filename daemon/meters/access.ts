/**
 * How the daemon talks to one registered meter: DlmsClient options from the registry's
 * access record (client, mechanism, credentials) and the line. Keys come from a key file
 * (production) or inline (tests); invocation counters from the SQLite store, one key id per
 * meter and key. A credential problem is a typed Config error for that meter only.
 */
import { readKeyFile } from '../../config/key-files';
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

export function loadKeys(m: MeterRecord): { blockKey: Uint8Array; authKey: Uint8Array } {
  const keys = m.access.keys;
  if (keys === undefined) throw credentialError(m.serial, 'no keys configured for HLS/ciphering');
  if ('file' in keys) {
    // checked at start and on SIGHUP already; read again here, the file may have changed since
    const r = readKeyFile(keys.file);
    if (!r.ok) throw credentialError(m.serial, `key file ${keys.file} ${r.problem}`);
    return { blockKey: fromHex(r.keys.blockKey), authKey: fromHex(r.keys.authKey) };
  }
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
      ...loadKeys(m),
      counterStore: deps.counters,
      counterKeyId: `${m.serial}/${a.client}/guek`,
    },
  };
}
