/**
 * What a reload (SIGHUP, `systemctl reload dcud`) does with a new configuration. It applies
 * the `meters` seed list (their key files are checked by loadConfig and read again at every
 * association, so a changed key file needs no reload at all; users and tokens live in the
 * store and take effect at once). Every other section is built into running parts — lines
 * and their ports, the store and its bound, the API's listeners and certificate, the MQTT
 * session, the collection timers, push listeners — so a change there is named in a warning
 * and takes effect after a restart; until then dcud keeps running with the old one.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Config, MeterConfig } from '../config/schema';

/** Sections a reload applies. */
export const RELOADABLE = ['meters'] as const satisfies readonly (keyof Config)[];

export interface ReloadPlan {
  /** The meters to seed: those of the new configuration on a line that runs. */
  readonly meters: MeterConfig[];
  /** Sections that differ from the running configuration and need a restart (config key names). */
  readonly restartNeeded: readonly string[];
  /** Meters left out: their line is not running (it is new, renamed, or its change needs a restart). */
  readonly meterOnUnknownLine: readonly { readonly serial: string; readonly line: string }[];
}

export function planReload(running: Config, next: Config): ReloadPlan {
  const reloadable: ReadonlySet<string> = new Set(RELOADABLE);
  const keys = new Set([...Object.keys(running), ...Object.keys(next)]);
  const restartNeeded = [...keys].filter((k) => !reloadable.has(k) && !isDeepStrictEqual(running[k as keyof Config], next[k as keyof Config])).sort();
  const lines = new Set(running.lines.map((l) => l.name));
  return {
    meters: next.meters.filter((m) => lines.has(m.line)),
    restartNeeded,
    meterOnUnknownLine: next.meters.filter((m) => !lines.has(m.line)).map((m) => ({ serial: m.serial, line: m.line })),
  };
}
