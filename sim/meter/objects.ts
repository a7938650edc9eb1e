/**
 * The simulated meter's object catalogue as data: every COSEM object it carries, with class,
 * version and what it is. model.ts gives each its behaviour; access.ts who may use it.
 */
import type { CaptureObject } from '../../protocol/cosem/capture-object';
import { CLOCK_CAPTURE_OBJECT } from '../../protocol/cosem/capture-object';
import { type Obis, obis } from '../../protocol/cosem/obis';
import { Unit } from '../../protocol/cosem/units';

export interface CatalogueEntry {
  readonly classId: number;
  readonly version: number;
  readonly obis: Obis;
  readonly what: string;
}

const entry = (classId: number, version: number, text: string, what: string): CatalogueEntry => ({ classId, version, obis: obis(text), what });

/** Object key → catalogue entry, in object_list order. */
export const METER_OBJECTS = {
  clock: entry(8, 0, '0.0.1.0.0.255', 'clock'),
  logicalDeviceName: entry(1, 0, '0.0.42.0.0.255', 'logical device name (octet-string)'),
  serialNumber: entry(1, 0, '0.0.96.1.0.255', 'serial number (octet-string, ASCII)'),
  firmwareId: entry(1, 0, '1.0.0.2.0.255', 'active firmware identifier (octet-string, ASCII)'),
  activeImport: entry(3, 0, '1.0.1.8.0.255', '+A active energy import, Wh'),
  activeExport: entry(3, 0, '1.0.2.8.0.255', '−A active energy export, Wh'),
  reactiveImport: entry(3, 0, '1.0.3.8.0.255', '+R reactive energy import, varh'),
  reactiveExport: entry(3, 0, '1.0.4.8.0.255', '−R reactive energy export, varh'),
  voltage: entry(3, 0, '1.0.32.7.0.255', 'L1 voltage, 0.1 V'),
  current: entry(3, 0, '1.0.31.7.0.255', 'L1 current, 0.01 A'),
  activePower: entry(3, 0, '1.0.1.7.0.255', '+P active power, W'),
  profileStatus: entry(1, 0, '0.0.96.10.1.255', 'load profile status (uint8) of the running interval'),
  standardEventCode: entry(1, 0, '0.0.96.11.0.255', 'last standard event code (uint8)'),
  powerFailureEventCode: entry(1, 0, '0.0.96.11.4.255', 'last power-failure event code (uint8)'),
  alarmRegister: entry(1, 0, '0.0.97.98.0.255', 'alarm register (uint32)'),
  loadProfile: entry(7, 1, '1.0.99.1.0.255', 'load profile: clock, status, ±A, ±R every capture period'),
  dailyProfile: entry(7, 1, '1.0.99.2.0.255', 'daily values: clock, ±A, ±R at local midnight'),
  monthlyBilling: entry(7, 1, '0.0.98.1.0.255', 'monthly billing: clock, ±A, ±R on the 1st at local midnight'),
  standardEventLog: entry(7, 1, '0.0.99.98.0.255', 'standard event log: clock, event code'),
  powerFailureLog: entry(7, 1, '0.0.99.97.0.255', 'power failure event log: clock, event code'),
  disconnectControl: entry(70, 0, '0.0.96.3.10.255', 'disconnect control (breaker)'),
  imageTransfer: entry(18, 0, '0.0.44.0.0.255', 'image transfer (firmware upgrade)'),
} as const;

export type MeterObjectKey = keyof typeof METER_OBJECTS;

export const ENERGY_KEYS = ['activeImport', 'activeExport', 'reactiveImport', 'reactiveExport'] as const;

/** Register scaler / unit / value type. */
export const REGISTER_SCALING = {
  activeImport: { scaler: 0, unit: Unit.Wh },
  activeExport: { scaler: 0, unit: Unit.Wh },
  reactiveImport: { scaler: 0, unit: Unit.varh },
  reactiveExport: { scaler: 0, unit: Unit.varh },
  voltage: { scaler: -1, unit: Unit.V },
  current: { scaler: -2, unit: Unit.A },
  activePower: { scaler: 0, unit: Unit.W },
} as const;

const column = (key: MeterObjectKey): CaptureObject => ({ classId: METER_OBJECTS[key].classId, obis: METER_OBJECTS[key].obis, attributeIndex: 2, dataIndex: 0 });

export const ENERGY_COLUMNS: readonly CaptureObject[] = ENERGY_KEYS.map(column);
export const LOAD_PROFILE_COLUMNS: readonly CaptureObject[] = [CLOCK_CAPTURE_OBJECT, column('profileStatus'), ...ENERGY_COLUMNS];
export const BILLING_COLUMNS: readonly CaptureObject[] = [CLOCK_CAPTURE_OBJECT, ...ENERGY_COLUMNS];
export const STANDARD_EVENT_COLUMNS: readonly CaptureObject[] = [CLOCK_CAPTURE_OBJECT, column('standardEventCode')];
export const POWER_FAILURE_COLUMNS: readonly CaptureObject[] = [CLOCK_CAPTURE_OBJECT, column('powerFailureEventCode')];
