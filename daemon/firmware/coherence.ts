/**
 * After an update, is the meter coherent? Its energy registers did not go backwards (against
 * the values read just before the transfer, or the last stored ones), and its event log has
 * the firmware-activated event since the campaign started. Anything else is a WARN on the
 * meter's result, never a KO: the new version runs.
 */
import type { DlmsClient } from '../../protocol/client/client';
import type { Db } from '../../storage/db';
import type { ReadingsStore } from '../../storage/readings';
import { readEnergyRegisters } from '../jobs/basic-read';
import { collectEventLogs } from '../jobs/meter-events';

/** Event code of "firmware activated" (event-tables.ts, the IDIS position the simulator uses). */
export const FIRMWARE_ACTIVATED = 18;

/** Register values read now, stored, as a baseline before a transfer. */
export async function registerBaseline(client: DlmsClient, readings: ReadingsStore, meter: string, now: number): Promise<void> {
  const r = await readEnergyRegisters(client);
  if (r.registers.length > 0) readings.storeRegisters(meter, now, r.registers);
}

export async function checkCoherence(client: DlmsClient, o: { db: Db; readings: ReadingsStore; meter: string; now: number; since: number }): Promise<string[]> {
  const warnings: string[] = [];
  const prior = o.db.prepare<[string, string, number], { value: string }>('SELECT value FROM register_values WHERE meter = ? AND obis = ? AND read_at < ? ORDER BY read_at DESC LIMIT 1');
  const r = await readEnergyRegisters(client);
  for (const v of r.registers) {
    const before = prior.get(o.meter, v.obis, o.now)?.value;
    if (before !== undefined && Number(v.value) < Number(before)) warnings.push(`${v.name} ${v.obis} went backwards after the update: ${before} → ${v.value} ${v.unit}`);
  }
  if (r.registers.length > 0) o.readings.storeRegisters(o.meter, o.now, r.registers);
  warnings.push(...r.observations);
  // Range ends are whole seconds on the wire: read 2 s ahead so an event of this very second is in.
  await collectEventLogs(client, o.readings, { meter: o.meter, now: o.now + 2000, backfillMs: Math.max(0, o.now - o.since) + 3_600_000 });
  const seen = o.db.prepare<[string, number, number], { n: number }>('SELECT count(*) AS n FROM meter_events WHERE meter = ? AND code = ? AND at >= ?').get(o.meter, FIRMWARE_ACTIVATED, o.since - 3_600_000);
  if ((seen?.n ?? 0) === 0) warnings.push('no firmware-activated event in the meter event log since the campaign started');
  return warnings;
}
