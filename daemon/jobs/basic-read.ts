import type { Data } from '../../protocol/axdr/data';
import type { DlmsClient } from '../../protocol/client/client';
import { readClock, readProfile } from '../../protocol/client/reads';
import { DcuError, ErrorCode, isDcuError } from '../../protocol/common/errors';
import { formatObis, obis, type Obis } from '../../protocol/cosem/obis';
import { decodeScalerUnit, scaledDecimal, unitSymbol } from '../../protocol/cosem/units';

/**
 * The first collection job: clock (and drift), the four energy registers and today's load
 * profile. The result follows the utility's convention: EXE (ok), WARN (ok with
 * observations: clock drift, missing profile rows), FAIL (no usable data, with the reason).
 */

export type ReadStatus = 'EXE' | 'WARN' | 'FAIL';

export const ENERGY_REGISTERS: readonly { name: string; obis: Obis }[] = [
  { name: '+A', obis: obis('1.0.1.8.0.255') },
  { name: '-A', obis: obis('1.0.2.8.0.255') },
  { name: '+R', obis: obis('1.0.3.8.0.255') },
  { name: '-R', obis: obis('1.0.4.8.0.255') },
];

export const LOAD_PROFILE = obis('1.0.99.1.0.255');

/** Clock drift beyond this is an observation (WARN); utilities usually resync at ±30 s. */
export const DRIFT_WARN_SECONDS = 30;

export interface RegisterValue {
  name: string;
  /** OBIS, dotted. */
  obis: string;
  /** Exact decimal after the scaler. */
  value: string;
  unit: string;
}

export interface BasicReadResult {
  status: ReadStatus;
  observations: string[];
  driftSeconds?: number;
  registers: RegisterValue[];
  profileRows?: number;
  expectedProfileRows?: number;
  error?: { code: number; message: string };
}

function numeric(d: Data): number | bigint | undefined {
  return 'value' in d && (typeof d.value === 'number' || typeof d.value === 'bigint') ? d.value : undefined;
}

/** The four energy registers with their scaler_unit, in one get-with-list where granted. */
export async function readEnergyRegisters(client: DlmsClient): Promise<{ registers: RegisterValue[]; observations: string[] }> {
  const registers: RegisterValue[] = [];
  const observations: string[] = [];
  const refs = ENERGY_REGISTERS.flatMap((r) => [
    { classId: 3, obis: r.obis, index: 2 },
    { classId: 3, obis: r.obis, index: 3 },
  ]);
  const outcomes = await client.getWithList(refs);
  ENERGY_REGISTERS.forEach((r, i) => {
    const v = outcomes[2 * i];
    const su = outcomes[2 * i + 1];
    const n = v?.ok ? numeric(v.data) : undefined;
    if (n === undefined || !su?.ok) {
      observations.push(`${r.name} not readable`);
      return;
    }
    const s = decodeScalerUnit(su.data);
    registers.push({ name: r.name, obis: formatObis(r.obis), value: scaledDecimal(n, s.scaler), unit: unitSymbol(s.unit) });
  });
  return { registers, observations };
}

export async function readBasics(client: DlmsClient, options: { now: number; profilePeriodS?: number }): Promise<BasicReadResult> {
  const result: BasicReadResult = { status: 'EXE', observations: [], registers: [] };
  try {
    const clock = await readClock(client);
    if (clock.driftMs === null) result.observations.push('meter clock not set (wildcards)');
    else {
      result.driftSeconds = Math.round(clock.driftMs / 100) / 10;
      if (Math.abs(result.driftSeconds) > DRIFT_WARN_SECONDS) result.observations.push(`clock drift ${result.driftSeconds} s`);
    }

    const energy = await readEnergyRegisters(client);
    result.registers.push(...energy.registers);
    result.observations.push(...energy.observations);

    const midnight = Math.floor(options.now / 86_400_000) * 86_400_000;
    const profile = await readProfile(client, LOAD_PROFILE, { from: midnight, to: options.now, scalers: false });
    result.profileRows = profile.rows.length;
    const period = profile.capturePeriod || (options.profilePeriodS ?? 900);
    result.expectedProfileRows = Math.floor((options.now - midnight) / (period * 1000)) + 1;
    // The current period may not be captured yet: one short is normal.
    if (result.profileRows < result.expectedProfileRows - 1) {
      result.observations.push(`load profile: ${result.profileRows} of ${result.expectedProfileRows} rows today`);
    }
  } catch (e) {
    const err = isDcuError(e) ? e : new DcuError(ErrorCode.Internal, String(e));
    result.status = 'FAIL';
    result.error = { code: err.code, message: err.message };
    return result;
  }
  if (result.observations.length > 0) result.status = 'WARN';
  return result;
}
