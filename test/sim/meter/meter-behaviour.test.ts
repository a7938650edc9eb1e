import { ActionResult, DataAccessResult } from '../../../protocol/apdu/results';
import type { Data } from '../../../protocol/axdr/data';
import { dataAsDateTime, dateTimeToEpoch, encodeDateTimeOctets, epochToDateTime } from '../../../protocol/axdr/datetime';
import { DcuError } from '../../../protocol/common/errors';
import { readObjectList, readProfile } from '../../../protocol/client/reads';
import { formatObis } from '../../../protocol/cosem/obis';
import { AlarmBit, createSimMeter, energyAt, EventCode, METER_OBJECTS, ProfileStatusBit } from '../../../sim/meter';
import { connect, meterSpec, newMeter, T0 } from './station';

const ref = (key: keyof typeof METER_OBJECTS, index: number) => ({ classId: METER_OBJECTS[key].classId, obis: METER_OBJECTS[key].obis, index });
const dateTime = (ms: number): Data => ({ type: 'octet-string', value: encodeDateTimeOctets(epochToDateTime(ms, { deviation: 0, hundredths: false })) });
const epochOf = (d: Data): number | null => {
  const dt = dataAsDateTime(d);
  return dt === undefined ? null : dateTimeToEpoch(dt);
};

describe('simulated meter: access rights per client', () => {
  it('public client: a read-only subset, no profile, no clock write, no methods', async () => {
    const { meter, spec } = newMeter();
    const c = await connect(meter.handler, 'public');
    const list = (await readObjectList(c)).map((e) => formatObis(e.obis));
    expect(list).toEqual(['0.0.40.0.0.255', '0.0.1.0.0.255', '0.0.42.0.0.255', '0.0.96.1.0.255', '1.0.0.2.0.255', '1.0.1.8.0.255', '1.0.2.8.0.255', '1.0.3.8.0.255', '1.0.4.8.0.255']);
    expect(await c.getValue(ref('activeImport', 2))).toEqual({ type: 'uint32', value: energyAt(spec, T0).activeImport });
    expect(await c.get(ref('loadProfile', 2))).toEqual({ ok: false, result: DataAccessResult.readWriteDenied });
    expect(await c.set(ref('clock', 2), dateTime(T0))).toBe(DataAccessResult.readWriteDenied);
    expect((await c.action(ref('disconnectControl', 1), { type: 'int8', value: 0 })).result).toBe(ActionResult.readWriteDenied);
    await c.close();
  });

  it('reader client (LLS): reads everything, writes nothing, invokes nothing', async () => {
    const { meter, clock } = newMeter();
    const c = await connect(meter.handler, 'reader');
    expect((await c.get(ref('loadProfile', 7))).ok).toBe(true);
    expect(await c.set(ref('clock', 2), dateTime(T0 + 60_000))).toBe(DataAccessResult.readWriteDenied);
    expect(epochOf(await c.getValue(ref('clock', 2)))).toBe(clock.now());
    expect(await c.set(ref('alarmRegister', 2), { type: 'uint32', value: 0 })).toBe(DataAccessResult.readWriteDenied);
    expect((await c.action(ref('clock', 6), { type: 'int16', value: 5 })).result).toBe(ActionResult.readWriteDenied);
    await c.close();
  });

  it('refuses a wrong password and every association when the fault flag is set', async () => {
    const { meter } = newMeter({}, meterSpec(0, { credentials: [{ client: 17, auth: 'low', password: 'other' }] }));
    await expect(connect(meter.handler, 'reader')).rejects.toBeInstanceOf(DcuError);
    const refusing = newMeter({}, meterSpec(1, { rejectAssociations: true }));
    await expect(connect(refusing.meter.handler, 'public')).rejects.toBeInstanceOf(DcuError);
  });
});

describe('simulated meter: clock', () => {
  it('runs on the injected clock with drift, and is set and shifted by the management client', async () => {
    const { meter, clock } = newMeter({ clockDriftPpm: 100 });
    const c = await connect(meter.handler, 'manager');
    clock.advance(10_000_000); // 10 000 s → +1 s of drift at 100 ppm
    expect(epochOf(await c.getValue(ref('clock', 2)))).toBe(T0 + 10_001_000);

    const target = Date.UTC(2026, 2, 10, 15, 0, 0);
    expect(await c.set(ref('clock', 2), dateTime(target))).toBe(DataAccessResult.success);
    expect(epochOf(await c.getValue(ref('clock', 2)))).toBe(target);
    expect((await c.action(ref('clock', 6), { type: 'int16', value: -30 })).result).toBe(ActionResult.success);
    expect(epochOf(await c.getValue(ref('clock', 2)))).toBe(target - 30_000);
    expect((await c.action(ref('clock', 6), { type: 'int16', value: 901 })).result).toBe(ActionResult.otherReason);

    // Registers follow true time: setting the clock does not move them.
    expect(await c.getValue(ref('activeImport', 2))).toEqual({ type: 'uint32', value: energyAt(meter.core.spec, clock.now()).activeImport });
    const codes = meter.core.standardLog.entries().map((e) => e.code);
    expect(codes).toEqual([EventCode.clockAdjustedOldTime, EventCode.clockAdjustedNewTime, EventCode.clockAdjustedOldTime, EventCode.clockAdjustedNewTime]);
    // The load profile interval of the adjustment carries the clock-adjusted status bit.
    const p = await readProfile(c, METER_OBJECTS.loadProfile.obis, { fromEntry: 5760 });
    expect(p.rows[0]?.status).toBe(0);
    clock.advance(900_000);
    const q = await readProfile(c, METER_OBJECTS.loadProfile.obis, { fromEntry: 5760 });
    expect(q.rows[0]?.status).toBe(ProfileStatusBit.clockAdjusted);
    await c.close();
  });

  it('writes the time zone and answers date-times with it', async () => {
    const { meter } = newMeter();
    const c = await connect(meter.handler, 'manager');
    expect(await c.set(ref('clock', 3), { type: 'int16', value: -120 })).toBe(DataAccessResult.success);
    const dt = dataAsDateTime(await c.getValue(ref('clock', 2)));
    expect(dt?.deviation).toBe(-120);
    expect(dt?.hour).toBe(14);
    await c.close();
  });
});

describe('simulated meter: disconnect control', () => {
  it('disconnects and reconnects (mode 2), logs it, zeroes the current meanwhile', async () => {
    const { meter } = newMeter();
    const c = await connect(meter.handler, 'manager');
    expect((await c.action(ref('disconnectControl', 1), { type: 'int8', value: 0 })).result).toBe(ActionResult.success);
    expect(await c.getValue(ref('disconnectControl', 2))).toEqual({ type: 'boolean', value: false });
    expect(await c.getValue(ref('disconnectControl', 3))).toEqual({ type: 'enum', value: 0 });
    expect(await c.getValue(ref('current', 2))).toEqual({ type: 'uint16', value: 0 });
    expect(await c.getValue(ref('alarmRegister', 2))).toEqual({ type: 'uint32', value: AlarmBit.disconnected });
    expect((await c.action(ref('disconnectControl', 2), { type: 'int8', value: 0 })).result).toBe(ActionResult.success);
    expect(await c.getValue(ref('disconnectControl', 3))).toEqual({ type: 'enum', value: 1 });
    expect(await c.getValue(ref('standardEventCode', 2))).toEqual({ type: 'uint8', value: EventCode.reconnected });
    await c.close();
  });

  it('goes to ready-for-reconnection in mode 1 and refuses both methods in mode 0', async () => {
    const { meter } = newMeter({ disconnectControlMode: 1 });
    const c = await connect(meter.handler, 'manager');
    await c.action(ref('disconnectControl', 1), { type: 'int8', value: 0 });
    await c.action(ref('disconnectControl', 2), { type: 'int8', value: 0 });
    expect(await c.getValue(ref('disconnectControl', 3))).toEqual({ type: 'enum', value: 2 });
    expect(await c.set(ref('disconnectControl', 4), { type: 'enum', value: 0 })).toBe(DataAccessResult.success);
    expect((await c.action(ref('disconnectControl', 1), { type: 'int8', value: 0 })).result).toBe(ActionResult.otherReason);
    await c.close();
  });
});

describe('simulated meter: power cut and state', () => {
  it('forgets associations, logs the power failure and flags power up', async () => {
    const { meter, clock } = newMeter();
    const c = await connect(meter.handler, 'manager');
    clock.advance(60_000);
    meter.powerCut();
    await expect(c.get(ref('clock', 2))).rejects.toBeInstanceOf(DcuError);
    const c2 = await connect(meter.handler, 'manager');
    const log = await readProfile(c2, METER_OBJECTS.powerFailureLog.obis);
    expect(log.rows.map((r) => [r.timestamp, r.cells[1]?.value])).toEqual([[T0 + 60_000, EventCode.powerDown]]);
    const std = await readProfile(c2, METER_OBJECTS.standardEventLog.obis);
    expect(std.rows.map((r) => r.cells[1]?.value)).toEqual([EventCode.powerDown, EventCode.powerUp]);
    expect(await c2.getValue(ref('alarmRegister', 2))).toEqual({ type: 'uint32', value: AlarmBit.powerUp });
    expect(await c2.set(ref('alarmRegister', 2), { type: 'uint32', value: 0 })).toBe(DataAccessResult.success);
    // The interval of the cut carries the power-down status bit.
    clock.advance(900_000);
    const p = await readProfile(c2, METER_OBJECTS.loadProfile.obis, { from: T0, to: T0 + 900_000 });
    expect(p.rows[0]?.status).toBe(ProfileStatusBit.powerDown);
    await c2.close();
  });

  it('snapshot is JSON and restores clock, time zone, breaker, alarm and logs into a new meter', async () => {
    const { meter, clock, spec } = newMeter();
    const c = await connect(meter.handler, 'manager');
    await c.action(ref('clock', 6), { type: 'int16', value: 120 });
    await c.set(ref('clock', 3), { type: 'int16', value: -60 });
    await c.action(ref('disconnectControl', 1), { type: 'int8', value: 0 });
    meter.powerCut();
    const saved: unknown = JSON.parse(JSON.stringify(meter.snapshot()));

    const other = createSimMeter(spec, { clock });
    other.restore(saved);
    expect(other.snapshot()).toEqual(meter.snapshot());
    const c2 = await connect(other.handler, 'reader');
    expect(epochOf(await c2.getValue(ref('clock', 2)))).toBe(clock.now() + 120_000);
    expect(await c2.getValue(ref('disconnectControl', 3))).toEqual({ type: 'enum', value: 0 });
    expect((await readProfile(c2, METER_OBJECTS.standardEventLog.obis)).rows).toHaveLength(5);
    await c2.close();
  });

  it('refuses a malformed snapshot with a DcuError naming the field', () => {
    const { meter } = newMeter();
    const good = meter.snapshot();
    expect(() => meter.restore({ ...good, clock: { trueAt: 'x', meterAt: 1 } })).toThrow(/clock\.trueAt/);
    expect(() => meter.restore(null)).toThrow(/expected an object/);
    expect(() => meter.restore({ ...good, format: 'other' })).toThrow(/format/);
    expect(() => meter.restore({ ...good, serial: 'OTHER' })).toThrow(DcuError);
    expect(() => meter.restore({ ...good, image: { ...good.image, size: 1e12 } })).toThrow(/image\.size/);
  });
});

describe('simulated meter: memory', () => {
  it('1,024 meters stay light until used', () => {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    const meters = Array.from({ length: 1024 }, (_, i) => newMeter({}, meterSpec(i)).meter);
    const perMeter = (process.memoryUsage().heapUsed - before) / meters.length;
    // A few kilobytes each (no profile rows, no image buffer, no server until the first APDU).
    expect(perMeter).toBeLessThan(16 * 1024);
    expect(meters.every((m) => m.snapshot().image.image === '')).toBe(true);
  });
});
