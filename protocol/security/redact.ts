/**
 * Keep key material out of logs. Two layers:
 *  - PINO_REDACT_PATHS for pino's `redact` option (fast, path-based, up to 2 levels deep);
 *  - redactKeys(obj) / redactSecrets(text, secrets) for anything built by hand
 *    (error contexts, config dumps, hex traces that might contain a key).
 */
import { toHex } from '../common/hex';

export const REDACTED = '[REDACTED]';

/** Property names whose values are secret, whatever their type. */
export const SECRET_FIELD_NAMES: readonly string[] = [
  'blockKey',
  'blockCipherKey',
  'authKey',
  'authenticationKey',
  'dedicatedKey',
  'broadcastKey',
  'masterKey',
  'kek',
  'key',
  'password',
  'llsPassword',
  'secret',
  'hlsSecret',
];

/** Also catch names we did not list: anything ending in key/password/secret/kek/pwd. */
const SECRET_NAME = /(key|password|passwd|pwd|secret|kek|passphrase)$/i;

export function isSecretFieldName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** pino `redact.paths`: each secret name at the top level and one or two levels down. */
export const PINO_REDACT_PATHS: readonly string[] = SECRET_FIELD_NAMES.flatMap((n) => [n, `*.${n}`, `*.*.${n}`]);

const MAX_DEPTH = 12;

/** Deep copy of value with every secret-named property replaced by REDACTED. */
export function redactKeys<T>(value: T): T {
  return walk(value, new WeakSet<object>(), 0) as T;
}

function walk(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) || value instanceof Date) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, seen, depth + 1));
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value) out.set(k, typeof k === 'string' && isSecretFieldName(k) ? REDACTED : walk(v, seen, depth + 1));
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretFieldName(k) ? REDACTED : walk(v, seen, depth + 1);
  }
  if (value instanceof Error) {
    out.name = value.name;
    out.message = value.message;
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replace every occurrence of the given secrets in text: as hex (either case, with or
 * without single-space/colon separators) and as UTF-8 (passwords).
 */
export function redactSecrets(text: string, secrets: readonly Uint8Array[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue; // too short to redact without mangling unrelated text
    const hex = toHex(s);
    const pairs = hex.match(/../g) ?? [];
    const pattern = new RegExp(pairs.join('[ :]?'), 'gi');
    out = out.replace(pattern, REDACTED);
    const utf8 = Buffer.from(s).toString('utf8');
    if (/^[\x20-\x7e]+$/.test(utf8)) out = out.replace(new RegExp(escapeRegExp(utf8), 'g'), REDACTED);
  }
  return out;
}
