/**
 * The COSEM object model of one simulated meter: thin ServerObjects over MeterCore, in
 * the order of METER_OBJECTS. Built when the meter first answers, not when it is created.
 */
import { simLogicalDeviceName } from './push';
import { ActionResult, DataAccessResult } from '../../protocol/apdu/results';
import type { Data } from '../../protocol/axdr/data';
import { dataAsDateTime, dateTimeToEpoch } from '../../protocol/axdr/datetime';
import { encodeScalerUnit } from '../../protocol/cosem/units';
import type { GetOutcome, ObjectModel, ServerObject } from '../../protocol/server/object';
import { ListObjectModel, type MethodHandler, ValueObject } from '../../protocol/server/value-object';
import type { MeterCore } from './core';
import { outputState } from './disconnect';
import { ImageTransferObject } from './image-transfer-object';
import { loadProfileDepth } from './options';
import { ProfileObject } from './profile-object';
import {
  BILLING_COLUMNS,
  ENERGY_KEYS,
  LOAD_PROFILE_COLUMNS,
  METER_OBJECTS,
  type MeterObjectKey,
  POWER_FAILURE_COLUMNS,
  REGISTER_SCALING,
  STANDARD_EVENT_COLUMNS,
} from './objects';
import { ScheduledSource, monthlySchedule, regularSchedule } from './scheduled-source';
import type { EnergyReadings } from './values';

const te = new TextEncoder();
const ok = (data: Data): GetOutcome => ({ ok: true, data });
const u8 = (value: number): Data => ({ type: 'uint8', value });
const u32 = (value: number): Data => ({ type: 'uint32', value: Math.max(0, Math.min(0xffffffff, Math.round(value))) });
const u16 = (value: number): Data => ({ type: 'uint16', value: Math.max(0, Math.min(0xffff, Math.round(value))) });
const ascii = (text: string): Data => ({ type: 'octet-string', value: te.encode(text) });

function base(key: MeterObjectKey): { classId: number; version: number; obis: (typeof METER_OBJECTS)[MeterObjectKey]['obis'] } {
  const e = METER_OBJECTS[key];
  return { classId: e.classId, version: e.version, obis: e.obis };
}

function clockObject(core: MeterCore): ServerObject {
  const dst = (month: number): Data => ({
    type: 'octet-string',
    // Last Sunday of the month, 02:00 (wildcard year, day 0xFE = last, weekday 7).
    value: Uint8Array.of(0xff, 0xff, month, 0xfe, 7, 2, 0, 0, 0xff, 0x80, 0x00, 0xff),
  });
  const shift: MethodHandler = (p) => {
    if (p?.type !== 'int16' || Math.abs(p.value) > 900) return { result: ActionResult.otherReason };
    core.shiftClock(p.value);
    return { result: ActionResult.success };
  };
  return new ValueObject({
    ...base('clock'),
    attributes: {
      2: () => ok(core.dateTime(core.clock.now())),
      3: () => ok({ type: 'int16', value: core.deviation }),
      4: u8(0),
      5: dst(3),
      6: dst(10),
      7: { type: 'int8', value: 60 },
      8: { type: 'boolean', value: false },
      9: { type: 'enum', value: 1 },
    },
    setters: {
      2: (value) => {
        const dt = dataAsDateTime(value);
        const t = dt === undefined ? null : dateTimeToEpoch(dt, { convention: core.options.deviationConvention, defaultDeviation: core.deviation });
        if (t === null) return DataAccessResult.otherReason;
        core.setClock(t);
        return DataAccessResult.success;
      },
      3: (value) => {
        if (value.type !== 'int16' || Math.abs(value.value) > 720) return DataAccessResult.otherReason;
        core.deviation = value.value;
        return DataAccessResult.success;
      },
    },
    methods: { 6: shift },
  });
}

function dataObject(key: MeterObjectKey, value: () => Data, set?: (v: Data) => DataAccessResult): ServerObject {
  return new ValueObject({ ...base(key), attributes: { 2: () => ok(value()) }, ...(set === undefined ? {} : { setters: { 2: set } }) });
}

function register(key: keyof typeof REGISTER_SCALING, value: () => Data): ServerObject {
  return new ValueObject({ ...base(key), attributes: { 2: () => ok(value()), 3: encodeScalerUnit(REGISTER_SCALING[key]) } });
}

function energyCells(e: EnergyReadings): Data[] {
  return ENERGY_KEYS.map((k) => u32(e[k]));
}

function profiles(core: MeterCore): ServerObject[] {
  const o = core.options;
  const style = (): ReturnType<MeterCore['style']> => core.style();
  const meterNow = (): number => core.clock.now();
  const periodMs = o.capturePeriodS * 1000;
  const load = new ScheduledSource({
    captureObjects: LOAD_PROFILE_COLUMNS,
    periodS: o.capturePeriodS,
    depth: loadProfileDepth(o),
    schedule: () => regularSchedule(o.capturePeriodS, core.deviation),
    meterNow,
    row: (t) => [core.dateTime(t), u8(core.intervalStatus(t, periodMs)), ...energyCells(core.energyAt(t))],
  });
  const daily = new ScheduledSource({
    captureObjects: BILLING_COLUMNS,
    periodS: 86_400,
    depth: o.dailyDepthDays,
    schedule: () => regularSchedule(86_400, core.deviation),
    meterNow,
    row: (t) => [core.dateTime(t), ...energyCells(core.energyAt(t))],
  });
  const monthly = new ScheduledSource({
    captureObjects: BILLING_COLUMNS,
    periodS: 0,
    depth: o.monthlyDepthMonths,
    schedule: () => monthlySchedule(core.deviation),
    meterNow,
    row: (t) => [core.dateTime(t), ...energyCells(core.energyAt(t))],
  });
  const dt = (ms: number): Data => core.dateTime(ms);
  const nullClocks = o.nullRegularClocks;
  return [
    new ProfileObject({ obis: METER_OBJECTS.loadProfile.obis, source: load, style, nullClocks }),
    new ProfileObject({ obis: METER_OBJECTS.dailyProfile.obis, source: daily, style, nullClocks }),
    new ProfileObject({ obis: METER_OBJECTS.monthlyBilling.obis, source: monthly, style }),
    new ProfileObject({ obis: METER_OBJECTS.standardEventLog.obis, source: core.standardLog.source(STANDARD_EVENT_COLUMNS, dt), style }),
    new ProfileObject({ obis: METER_OBJECTS.powerFailureLog.obis, source: core.powerFailureLog.source(POWER_FAILURE_COLUMNS, dt), style }),
  ];
}

function disconnectObject(core: MeterCore): ServerObject {
  const invoke =
    (kind: 'disconnect' | 'reconnect'): MethodHandler =>
    () => ({ result: core.remote(kind) ? ActionResult.success : ActionResult.otherReason });
  return new ValueObject({
    ...base('disconnectControl'),
    attributes: {
      2: () => ok({ type: 'boolean', value: outputState(core.disconnect) }),
      3: () => ok({ type: 'enum', value: core.disconnect.controlState }),
      4: () => ok({ type: 'enum', value: core.disconnect.controlMode }),
    },
    setters: {
      4: (v) => {
        if (v.type !== 'enum' || v.value > 6) return DataAccessResult.otherReason;
        core.disconnect = { ...core.disconnect, controlMode: v.value };
        return DataAccessResult.success;
      },
    },
    methods: { 1: invoke('disconnect'), 2: invoke('reconnect') },
  });
}

export function buildMeterModel(core: MeterCore): ObjectModel {
  const spec = core.spec;
  const energy = (k: (typeof ENERGY_KEYS)[number]) => (): Data => u32(core.energyNow()[k]);
  const objects: ServerObject[] = [
    clockObject(core),
    dataObject('logicalDeviceName', () => ascii(simLogicalDeviceName(spec.serial))),
    dataObject('serialNumber', () => ascii(spec.serial)),
    // A pending activation completes at its time, read or not: the active identifier follows it.
    dataObject('firmwareId', () => ascii((core.imageState(), core.firmwareId))),
    ...ENERGY_KEYS.map((k) => register(k, energy(k))),
    register('voltage', () => u16(core.instantNow().voltageV * 10)),
    register('current', () => u16(core.instantNow().currentA * 100)),
    register('activePower', () => u32(core.instantNow().activePowerW)),
    dataObject('profileStatus', () => {
      const p = core.options.capturePeriodS * 1000;
      const now = core.clock.now();
      return u8(core.intervalStatus(Math.ceil(now / p) * p, p));
    }),
    dataObject('standardEventCode', () => u8(core.standardLog.lastCode())),
    dataObject('powerFailureEventCode', () => u8(core.powerFailureLog.lastCode())),
    dataObject(
      'alarmRegister',
      () => u32(core.alarm),
      (v) => {
        if (v.type !== 'uint32') return DataAccessResult.typeUnmatched;
        core.alarm = v.value;
        return DataAccessResult.success;
      },
    ),
    ...profiles(core),
    disconnectObject(core),
    new ImageTransferObject(METER_OBJECTS.imageTransfer.obis, core),
  ];
  return new ListObjectModel(objects);
}
