/** The profile data classes collected from a watermark. */
import { obis } from '../../protocol/cosem/obis';

export const LOAD_PROFILE = obis('1.0.99.1.0.255');

/** Profiles collected from a watermark: which object, and at most how much per range read. */
export const PROFILE_CLASSES = {
  'load-profile': { profile: LOAD_PROFILE, maxSpanMs: 24 * 3_600_000, defaultBackfill: '7d' },
  daily: { profile: obis('1.0.99.2.0.255'), maxSpanMs: 31 * 86_400_000, defaultBackfill: '31d' },
  billing: { profile: obis('0.0.98.1.0.255'), maxSpanMs: 366 * 86_400_000, defaultBackfill: '93d' },
} as const;
export type ProfileClass = keyof typeof PROFILE_CLASSES;
