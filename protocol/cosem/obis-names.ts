/**
 * Well-known OBIS codes (IEC 62056-6-1 / Blue Book object identification) used for display.
 * A pattern group 'x' matches any value; `{x}` in the name is replaced by that value.
 * The first matching entry wins, so exact codes come before wildcard ones.
 */
import type { Obis } from './obis';

type Group = number | 'x';
interface NameEntry {
  readonly pattern: readonly Group[];
  readonly name: string;
}

const TABLE: readonly (readonly [string, string])[] = [
  // abstract objects (A = 0)
  ['0.0.1.0.0.255', 'clock'],
  ['0.0.1.1.0.255', 'unix time'],
  ['0.0.42.0.0.255', 'logical device name'],
  ['0.0.41.0.0.255', 'SAP assignment'],
  ['0.0.40.0.0.255', 'current association'],
  ['0.0.40.0.x.255', 'association LN #{x}'],
  ['0.0.43.0.x.255', 'security setup #{x}'],
  ['0.0.43.1.x.255', 'invocation counter #{x}'],
  ['0.0.44.0.0.255', 'image transfer'],
  ['0.0.96.3.10.255', 'disconnect control'],
  ['0.0.17.0.0.255', 'limiter'],
  ['0.0.13.0.0.255', 'activity calendar'],
  ['0.0.15.0.0.255', 'end of billing period schedule'],
  ['0.0.10.0.100.255', 'tariffication script table'],
  ['0.0.10.0.x.255', 'script table #{x}'],
  ['0.0.22.0.0.255', 'IEC HDLC setup'],
  ['0.0.25.0.0.255', 'TCP-UDP setup'],
  ['0.0.25.1.0.255', 'IPv4 setup'],
  ['0.0.25.9.0.255', 'push setup'],
  ['0.0.2.0.0.255', 'modem configuration'],
  ['0.0.2.1.0.255', 'auto connect'],
  ['0.0.2.2.0.255', 'auto answer'],
  ['0.0.0.1.0.255', 'billing period counter'],
  ['0.0.96.1.0.255', 'meter serial number'],
  ['0.0.96.1.x.255', 'device identifier #{x}'],
  ['0.0.96.10.x.255', 'status register #{x}'],
  ['0.0.96.11.x.255', 'event code #{x}'],
  ['0.0.97.97.0.255', 'error register'],
  ['0.0.97.98.0.255', 'alarm register'],
  ['0.0.97.98.10.255', 'alarm filter'],
  ['0.0.97.98.20.255', 'alarm descriptor'],
  ['0.0.97.98.x.255', 'alarm register #{x}'],
  ['0.0.98.1.0.255', 'billing profile'],
  ['0.0.99.98.0.255', 'standard event log'],
  ['0.0.99.98.1.255', 'fraud detection log'],
  ['0.0.99.98.2.255', 'disconnector control log'],
  ['0.0.99.98.3.255', 'power quality log'],
  ['0.0.99.98.4.255', 'communication log'],
  ['0.0.99.98.x.255', 'event log #{x}'],
  ['0.0.99.97.0.255', 'power failure event log'],
  // electricity (A = 1)
  ['1.0.0.2.0.255', 'active firmware identifier'],
  ['1.0.0.2.8.255', 'active firmware signature'],
  ['1.0.99.1.0.255', 'load profile'],
  ['1.0.99.2.0.255', 'daily profile'],
  ['1.0.99.1.x.255', 'load profile #{x}'],
  ['1.0.99.97.0.255', 'power failure duration log'],
  ['1.0.1.8.0.255', '+A active energy import'],
  ['1.0.2.8.0.255', '-A active energy export'],
  ['1.0.3.8.0.255', '+R reactive energy import'],
  ['1.0.4.8.0.255', '-R reactive energy export'],
  ['1.0.5.8.0.255', 'reactive energy QI'],
  ['1.0.6.8.0.255', 'reactive energy QII'],
  ['1.0.7.8.0.255', 'reactive energy QIII'],
  ['1.0.8.8.0.255', 'reactive energy QIV'],
  ['1.0.9.8.0.255', '+S apparent energy import'],
  ['1.0.10.8.0.255', '-S apparent energy export'],
  ['1.0.15.8.0.255', '|A| absolute active energy'],
  ['1.0.1.8.x.255', '+A active energy import, tariff {x}'],
  ['1.0.2.8.x.255', '-A active energy export, tariff {x}'],
  ['1.0.3.8.x.255', '+R reactive energy import, tariff {x}'],
  ['1.0.4.8.x.255', '-R reactive energy export, tariff {x}'],
  ['1.0.1.4.0.255', '+P current average demand'],
  ['1.0.2.4.0.255', '-P current average demand'],
  ['1.0.1.6.0.255', '+P maximum demand'],
  ['1.0.2.6.0.255', '-P maximum demand'],
  ['1.0.1.7.0.255', '+P instantaneous active power import'],
  ['1.0.2.7.0.255', '-P instantaneous active power export'],
  ['1.0.3.7.0.255', '+Q instantaneous reactive power import'],
  ['1.0.4.7.0.255', '-Q instantaneous reactive power export'],
  ['1.0.9.7.0.255', '+S instantaneous apparent power import'],
  ['1.0.13.7.0.255', 'instantaneous power factor'],
  ['1.0.14.7.0.255', 'instantaneous frequency'],
  ['1.0.12.7.0.255', 'instantaneous voltage'],
  ['1.0.11.7.0.255', 'instantaneous current'],
  ['1.0.32.7.0.255', 'instantaneous voltage L1'],
  ['1.0.52.7.0.255', 'instantaneous voltage L2'],
  ['1.0.72.7.0.255', 'instantaneous voltage L3'],
  ['1.0.31.7.0.255', 'instantaneous current L1'],
  ['1.0.51.7.0.255', 'instantaneous current L2'],
  ['1.0.71.7.0.255', 'instantaneous current L3'],
  ['1.0.91.7.0.255', 'instantaneous current neutral'],
  ['1.0.21.7.0.255', '+P instantaneous active power import L1'],
  ['1.0.41.7.0.255', '+P instantaneous active power import L2'],
  ['1.0.61.7.0.255', '+P instantaneous active power import L3'],
  ['1.0.33.7.0.255', 'instantaneous power factor L1'],
  ['1.0.53.7.0.255', 'instantaneous power factor L2'],
  ['1.0.73.7.0.255', 'instantaneous power factor L3'],
];

function compile(pattern: string): Group[] {
  return pattern.split('.').map((g) => (g === 'x' ? 'x' : Number(g)));
}

const ENTRIES: readonly NameEntry[] = TABLE.map(([p, name]) => ({ pattern: compile(p), name }));

/** A display name for a well-known OBIS code, or undefined. */
export function obisName(o: Obis): string | undefined {
  for (const e of ENTRIES) {
    let wild: number | undefined;
    const hit = e.pattern.every((g, i) => {
      const v = o[i];
      if (g === 'x') {
        wild = v;
        return true;
      }
      return g === v;
    });
    if (hit) return wild === undefined ? e.name : e.name.replace('{x}', String(wild));
  }
  return undefined;
}

/** Every exact (wildcard-free) well-known code with its name, e.g. for `dcu obis --list`. */
export function wellKnownObis(): { obis: string; name: string }[] {
  return TABLE.filter(([p]) => !p.includes('x')).map(([obis, name]) => ({ obis, name }));
}
