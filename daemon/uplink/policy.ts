/**
 * Pure decisions of the drain: is a PUBACK a delivery, and how long to wait before trying
 * again. A PUBACK is a delivery only with a reason code below 0x80 and not 0x10 ("no
 * matching subscribers": the broker accepted the message but nobody received it — with a
 * HES that is offline without a persistent session the data would be gone).
 */

export const REASON_NAMES: Readonly<Record<number, string>> = {
  0x00: 'success',
  0x10: 'no matching subscribers',
  0x80: 'unspecified error',
  0x83: 'implementation specific error',
  0x87: 'not authorized',
  0x90: 'topic name invalid',
  0x91: 'packet identifier in use',
  0x97: 'quota exceeded',
  0x99: 'payload format invalid',
};

export function reasonName(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')} ${REASON_NAMES[code] ?? 'unknown reason'}`;
}

export type PubackVerdict = 'delivered' | 'kept';

export function pubackVerdict(reasonCode: number | undefined): PubackVerdict {
  const code = reasonCode ?? 0; // MQTT 3.1.1 PUBACK has no reason: success
  return code < 0x80 && code !== 0x10 ? 'delivered' : 'kept';
}

/**
 * Exponential pause with ±20 % jitter: min · 2^(failures-1), capped at max. `random` in
 * [0, 1) is injected so tests are deterministic.
 */
export function backoffMs(failures: number, minMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, Math.min(30, failures - 1)));
  return Math.max(0, Math.round(base * (0.8 + 0.4 * random())));
}
