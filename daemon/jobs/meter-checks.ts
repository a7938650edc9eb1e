/**
 * What a collection association also checks: the meter's identity (serial number, logical
 * device name, active firmware) when it is not commissioned yet, and its clock against ours
 * with the configured policy — below `syncAbove` nothing, up to `eventAbove` synchronise and
 * note it, beyond that do not touch the clock (a jump that large needs a person) and raise an
 * event for the HES.
 */
import type { Data } from '../../protocol/axdr/data';
import type { DlmsClient } from '../../protocol/client/client';
import { setClockNow } from '../../protocol/client/clock-set';
import { readClock } from '../../protocol/client/reads';
import { toHex } from '../../protocol/common/hex';
import { obis } from '../../protocol/cosem/obis';
import type { MeterIdentity } from '../../storage/meter-state';

export const SERIAL_NUMBER = obis('0.0.96.1.0.255');
export const LOGICAL_DEVICE_NAME = obis('0.0.42.0.0.255');
export const ACTIVE_FIRMWARE = obis('1.0.0.2.0.255');

/** Text when printable, else hex: identities are octet-strings of ASCII on most meters. */
export function identityText(d: Data): string | undefined {
  if (d.type === 'visible-string' || d.type === 'utf8-string') return d.value;
  if (d.type !== 'octet-string') return undefined;
  const printable = d.value.length > 0 && d.value.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? Buffer.from(d.value).toString('latin1') : toHex(d.value);
}

/** One get-with-list where granted (one round trip), else three GETs. Refused items are left out. */
export async function readIdentity(client: DlmsClient): Promise<MeterIdentity> {
  const [serial, name, firmware] = await client.getWithList([SERIAL_NUMBER, LOGICAL_DEVICE_NAME, ACTIVE_FIRMWARE].map((o) => ({ classId: 1, obis: o, index: 2 })));
  const text = (o: typeof serial): string | undefined => (o?.ok === true ? identityText(o.data) : undefined);
  const id: { serialNumber?: string; logicalName?: string; firmwareId?: string } = {};
  const s = text(serial);
  const n = text(name);
  const f = text(firmware);
  if (s !== undefined) id.serialNumber = s;
  if (n !== undefined) id.logicalName = n;
  if (f !== undefined) id.firmwareId = f;
  return id;
}

export interface ClockPolicy {
  readonly syncAboveMs: number;
  readonly eventAboveMs: number;
}

export type ClockAction = 'none' | 'synchronise' | 'report';

/** The policy as a pure function of the measured drift. */
export function clockAction(driftMs: number, policy: ClockPolicy): ClockAction {
  const abs = Math.abs(driftMs);
  if (abs > policy.eventAboveMs) return 'report';
  if (abs > policy.syncAboveMs) return 'synchronise';
  return 'none';
}

export interface ClockCheck {
  readonly driftMs: number | null;
  readonly action: ClockAction;
  /** Set when the clock was synchronised: the SET's DataAccessResult (0 = success). */
  readonly setResult?: number;
}

export async function checkClock(client: DlmsClient, policy: ClockPolicy): Promise<ClockCheck> {
  const reading = await readClock(client);
  if (reading.driftMs === null) return { driftMs: null, action: 'report' };
  const action = clockAction(reading.driftMs, policy);
  if (action !== 'synchronise') return { driftMs: reading.driftMs, action };
  const set = await setClockNow(client, { now: () => client.options.clock.now() });
  return { driftMs: reading.driftMs, action, setResult: set.result };
}
