import { DataAccessResult } from '../../../protocol/apdu/results';
import type { Data } from '../../../protocol/axdr/data';
import { dataAsDateTime, dateTimeToEpoch } from '../../../protocol/axdr/datetime';
import type { DlmsClient } from '../../../protocol/client/client';
import { readObjectList, readProfile } from '../../../protocol/client/reads';
import { formatObis } from '../../../protocol/cosem/obis';
import { encodeAccessSelector, rangeByEntry, rangeByTime } from '../../../protocol/cosem/selective-access';
import { energyAt, instantAt, METER_OBJECTS } from '../../../sim/meter';
import { connect, newMeter, T0 } from './station';

const ref = (key: keyof typeof METER_OBJECTS, index: number) => ({ classId: METER_OBJECTS[key].classId, obis: METER_OBJECTS[key].obis, index });
const QUARTER = 900_000;

function value(d: Data): number {
  if (d.type === 'uint32' || d.type === 'uint16' || d.type === 'uint8' || d.type === 'int16') return d.value;
  throw new Error(`not a number: ${d.type}`);
}

function text(d: Data): string {
  if (d.type !== 'octet-string') throw new Error(`not an octet-string: ${d.type}`);
  return new TextDecoder().decode(d.value);
}

function epochOf(d: Data): number | null {
  const dt = dataAsDateTime(d);
  return dt === undefined ? null : dateTimeToEpoch(dt);
}

describe('simulated meter: reads through the real client', () => {
  let client: DlmsClient;
  const { meter, spec } = newMeter();

  beforeAll(async () => {
    client = await connect(meter.handler, 'reader');
  });
  afterAll(async () => {
    await client.close();
  });

  it('lists every object of the catalogue in the object list, after the association', async () => {
    const list = await readObjectList(client);
    const names = list.map((e) => `${e.classId}:${formatObis(e.obis)}`);
    expect(names[0]).toBe('15:0.0.40.0.0.255');
    expect(names.slice(1)).toEqual(Object.values(METER_OBJECTS).map((o) => `${o.classId}:${formatObis(o.obis)}`));
  });

  it('answers identity objects and the clock', async () => {
    expect(text(await client.getValue(ref('serialNumber', 2)))).toBe(spec.serial);
    expect(text(await client.getValue(ref('logicalDeviceName', 2)))).toBe(`DCU${spec.serial}`);
    expect(text(await client.getValue(ref('firmwareId', 2)))).toBe('SIM-FW-1.0.0');
    expect(epochOf(await client.getValue(ref('clock', 2)))).toBe(T0);
    expect(await client.getValue(ref('clock', 3))).toEqual({ type: 'int16', value: 0 });
  });

  it('answers energy registers with the pure function, with their scaler_unit', async () => {
    const e = energyAt(spec, T0);
    expect(value(await client.getValue(ref('activeImport', 2)))).toBe(e.activeImport);
    expect(value(await client.getValue(ref('activeExport', 2)))).toBe(e.activeExport);
    expect(value(await client.getValue(ref('reactiveImport', 2)))).toBe(e.reactiveImport);
    expect(value(await client.getValue(ref('reactiveExport', 2)))).toBe(e.reactiveExport);
    expect(await client.getValue(ref('activeImport', 3))).toEqual({ type: 'structure', items: [{ type: 'int8', value: 0 }, { type: 'enum', value: 30 }] });
    expect(await client.getValue(ref('reactiveExport', 3))).toEqual({ type: 'structure', items: [{ type: 'int8', value: 0 }, { type: 'enum', value: 32 }] });
  });

  it('answers instantaneous values', async () => {
    const i = instantAt(spec, T0);
    expect(value(await client.getValue(ref('voltage', 2)))).toBe(Math.round(i.voltageV * 10));
    expect(value(await client.getValue(ref('current', 2)))).toBe(Math.round(i.currentA * 100));
    expect(value(await client.getValue(ref('activePower', 2)))).toBe(Math.round(i.activePowerW));
    expect(i.voltageV).toBeGreaterThan(220);
    expect(i.voltageV).toBeLessThan(240);
  });

  it('answers alarm, status, event code objects, disconnect control and image transfer attributes', async () => {
    expect(await client.getValue(ref('alarmRegister', 2))).toEqual({ type: 'uint32', value: 0 });
    expect(await client.getValue(ref('profileStatus', 2))).toEqual({ type: 'uint8', value: 0 });
    expect(await client.getValue(ref('standardEventCode', 2))).toEqual({ type: 'uint8', value: 0 });
    expect(await client.getValue(ref('disconnectControl', 2))).toEqual({ type: 'boolean', value: true });
    expect(await client.getValue(ref('disconnectControl', 3))).toEqual({ type: 'enum', value: 1 });
    expect(await client.getValue(ref('imageTransfer', 2))).toEqual({ type: 'uint32', value: 512 });
    expect(await client.getValue(ref('imageTransfer', 6))).toEqual({ type: 'enum', value: 0 });
    expect(await client.getValue(ref('imageTransfer', 7))).toEqual({ type: 'array', items: [] });
  });

  it('reads the whole load profile: 5760 quarter hours ending at the last capture, values from the pure function', async () => {
    const p = await readProfile(client, METER_OBJECTS.loadProfile.obis);
    expect(p.capturePeriod).toBe(900);
    expect(p.rows).toHaveLength(5760);
    const newest = Math.floor(T0 / QUARTER) * QUARTER;
    const first = p.rows[0];
    const last = p.rows[p.rows.length - 1];
    expect(first?.timestamp).toBe(newest - 5759 * QUARTER);
    expect(first?.rebuilt).toBe(false);
    expect(last?.timestamp).toBe(newest);
    expect(last?.rebuilt).toBe(true);
    const e = energyAt(spec, newest);
    expect(last?.cells.slice(2).map((c) => c.value)).toEqual([e.activeImport, e.activeExport, e.reactiveImport, e.reactiveExport]);
    // Monotonic counters.
    for (let i = 1; i < p.rows.length; i++) expect(p.rows[i]?.cells[2]?.value).toBeGreaterThanOrEqual(p.rows[i - 1]?.cells[2]?.value ?? 0);
  });

  it('sends null clock cells after the first row, and full ones when the option is off', async () => {
    const sel = encodeAccessSelector(rangeByEntry(1, 3));
    const raw = await client.getValue(ref('loadProfile', 2), sel);
    if (raw.type !== 'array') throw new Error('array expected');
    expect(raw.items.map((r) => (r.type === 'structure' ? r.items[0]?.type : r.type))).toEqual(['octet-string', 'null', 'null']);

    const other = newMeter({ nullRegularClocks: false });
    const c2 = await connect(other.meter.handler, 'reader');
    const full = await c2.getValue(ref('loadProfile', 2), sel);
    if (full.type !== 'array') throw new Error('array expected');
    expect(full.items.map((r) => (r.type === 'structure' ? r.items[0]?.type : r.type))).toEqual(['octet-string', 'octet-string', 'octet-string']);
    await c2.close();
  });

  it('selects the load profile by time range (inclusive bounds) and by entry', async () => {
    const from = Date.UTC(2026, 2, 9, 23, 50);
    const to = Date.UTC(2026, 2, 10, 1, 0);
    const byRange = await readProfile(client, METER_OBJECTS.loadProfile.obis, { from, to });
    expect(byRange.rows.map((r) => r.timestamp)).toEqual([0, 1, 2, 3, 4].map((i) => Date.UTC(2026, 2, 10, 0, 0) + i * QUARTER));
    expect(byRange.rows[0]?.cells[2]?.value).toBe(energyAt(spec, Date.UTC(2026, 2, 10)).activeImport);

    const byEntry = await readProfile(client, METER_OBJECTS.loadProfile.obis, { fromEntry: 5759, toEntry: 0 });
    const newest = Math.floor(T0 / QUARTER) * QUARTER;
    expect(byEntry.rows.map((r) => r.timestamp)).toEqual([newest - QUARTER, newest]);

    const empty = await readProfile(client, METER_OBJECTS.loadProfile.obis, { from: T0 + 3_600_000, to: T0 + 7_200_000 });
    expect(empty.rows).toEqual([]);
  });

  it('selects columns of a range', async () => {
    const cols = [
      { classId: 8, obis: METER_OBJECTS.clock.obis, attributeIndex: 2, dataIndex: 0 },
      { classId: 3, obis: METER_OBJECTS.activeExport.obis, attributeIndex: 2, dataIndex: 0 },
    ];
    const t = Date.UTC(2026, 2, 10, 6, 0);
    const sel = encodeAccessSelector(rangeByTime(t, t + QUARTER, { columns: cols }));
    const raw = await client.getValue(ref('loadProfile', 2), sel);
    expect(raw).toMatchObject({ type: 'array', items: [{ type: 'structure', items: [{ type: 'octet-string' }, { type: 'uint32', value: energyAt(spec, t).activeExport }] }, { items: [{ type: 'null' }, { type: 'uint32' }] }] });
  });

  it('rejects a malformed selection with other-reason', async () => {
    const out = await client.get(ref('loadProfile', 2), { selector: 2, parameters: { type: 'uint8', value: 1 } });
    expect(out).toEqual({ ok: false, result: DataAccessResult.otherReason });
  });

  it('reads the daily and monthly billing profiles at local midnight', async () => {
    const daily = await readProfile(client, METER_OBJECTS.dailyProfile.obis, { fromEntry: 99 });
    expect(daily.rows.map((r) => r.timestamp)).toEqual([Date.UTC(2026, 2, 9), Date.UTC(2026, 2, 10)]);
    expect(daily.rows[1]?.cells[1]?.value).toBe(energyAt(spec, Date.UTC(2026, 2, 10)).activeImport);
    const monthly = await readProfile(client, METER_OBJECTS.monthlyBilling.obis);
    expect(monthly.rows).toHaveLength(24);
    expect(monthly.rows.slice(-3).map((r) => r.timestamp)).toEqual([Date.UTC(2026, 0, 1), Date.UTC(2026, 1, 1), Date.UTC(2026, 2, 1)]);
    expect(monthly.rows[0]?.timestamp).toBe(Date.UTC(2024, 3, 1));
  });
});

describe('simulated meter: time zone', () => {
  it('aligns daily captures on local midnight of the deviation and sends it in date-times', async () => {
    const { meter } = newMeter({ deviation: -60 });
    const client = await connect(meter.handler, 'reader');
    const clock = await client.getValue(ref('clock', 2));
    const dt = dataAsDateTime(clock);
    expect(dt?.deviation).toBe(-60);
    expect(dt?.hour).toBe(13);
    expect(dateTimeToEpoch(dt ?? ({} as never))).toBe(T0);
    const daily = await readProfile(client, METER_OBJECTS.dailyProfile.obis, { fromEntry: 100 });
    expect(daily.rows[0]?.timestamp).toBe(Date.UTC(2026, 2, 9, 23));
    await client.close();
  });
});
