/**
 * Names of meter event codes and alarm register bits, as data. The positions follow the IDIS
 * habit that the simulator also uses; meter brands differ, so a name is a help for people —
 * the HES always gets the number too.
 */

export const EVENT_NAMES: Readonly<Record<number, string>> = {
  1: 'power-down',
  2: 'power-up',
  3: 'dst-changed',
  4: 'clock-adjusted-old-time',
  5: 'clock-adjusted-new-time',
  17: 'firmware-ready-for-activation',
  18: 'firmware-activated',
  19: 'firmware-verification-failed',
  20: 'firmware-activation-failed',
  59: 'disconnected',
  60: 'reconnected',
  61: 'ready-for-reconnection',
};

export function eventName(code: number): string {
  return EVENT_NAMES[code] ?? `event-${code}`;
}

/** Alarm register 0.0.97.98.0.255, bit position → name. */
export const ALARM_BITS: Readonly<Record<number, string>> = {
  0: 'clock-invalid',
  1: 'replace-battery',
  2: 'power-up',
  8: 'program-memory-error',
  9: 'ram-error',
  10: 'nv-memory-error',
  11: 'watchdog-error',
  12: 'measurement-system-error',
  13: 'firmware-verification-failed',
  14: 'firmware-activation-failed',
  20: 'disconnected',
};

export function alarmBitName(bit: number): string {
  return ALARM_BITS[bit] ?? `alarm-bit-${bit}`;
}

/** Profile status byte (0.0.96.10.x) bits → flags of the interval. */
export const PROFILE_STATUS_FLAGS: Readonly<Record<number, string>> = {
  0x01: 'critical-error',
  0x02: 'clock-invalid',
  0x04: 'data-not-valid',
  0x08: 'daylight-saving',
  0x20: 'clock-adjusted',
  0x80: 'power-down',
};

export function statusFlags(status: number): string[] {
  return Object.entries(PROFILE_STATUS_FLAGS)
    .filter(([bit]) => (status & Number(bit)) !== 0)
    .map(([, name]) => name);
}
