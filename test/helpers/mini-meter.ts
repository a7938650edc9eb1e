/**
 * A small, deterministic meter model for server, client and `dcu probe` tests (until the
 * full simulator meter exists). Everything is fixed except the clock time, which follows
 * the injected clock (plus any offset a client SET on clock time introduces).
 *
 * | class | OBIS             | what                                                         |
 * |-------|------------------|--------------------------------------------------------------|
 * | 15    | 0.0.40.0.0.255   | current association (provided by DlmsServer itself)          |
 * | 8     | 0.0.1.0.0.255    | clock: time (octet-string(12), UTC, deviation 0), tz 0, ...  |
 * | 3     | 1.0.1.8.0.255    | +A energy: uint32 1234567, scaler 0, unit 30 (Wh); reset m.1 |
 * | 3     | 1.0.32.7.0.255   | L1 voltage: uint16 2301, scaler -1, unit 35 (V)              |
 * | 1     | 0.0.96.128.0.255 | octet-string of MINI_LONG_VALUE_LENGTH bytes (i & 0xff)      |
 * | 7     | 1.0.99.1.0.255   | load profile: 96 rows, 15 min, {clock, +A}; range + entry    |
 *
 * Profile rows: row i (0-based) is at MINI_PROFILE_START + i × 15 min, +A = 1000 + 10 × i.
 * Clients: 16 public (no authentication, read only); 17 LLS password "Gurux" (class-table
 * access: Register value read-only, Data value read-write …); 1 management LLS "12345678",
 * full access; 2 HLS-GMAC with auth-enc ciphering (keys of the HLS trace in test/vectors,
 * MINI_HLS), full access; 3 and 4 HLS-SHA256 (MINI_SHA256), plain and auth-enc, full access. The server adds Security setup 0.0.43.0.0.255 and the invocation
 * counter 0.0.43.1.0.255 for the HLS client's setup.
 */
import { type Clock } from '../../protocol/common/clock';
import { DataAccessResult, ActionResult } from '../../protocol/apdu/results';
import type { Data } from '../../protocol/axdr/data';
import { encodeDateTimeOctets, epochToDateTime, dataAsDateTime, dateTimeToEpoch } from '../../protocol/axdr/datetime';
import { type CaptureObject, CLOCK_CAPTURE_OBJECT, encodeCaptureObjects, encodeCaptureObject } from '../../protocol/cosem/capture-object';
import { obis } from '../../protocol/cosem/obis';
import { applySelector, decodeAccessSelector } from '../../protocol/cosem/selective-access';
import { classTablePolicy, fullAccessPolicy, readOnlyPolicy } from '../../protocol/server/access';
import type { ClientAssociationConfig, GetOutcome, RequestContext, Selection } from '../../protocol/server/object';
import type { DlmsServerLimits } from '../../protocol/server/options';
import { DlmsServer } from '../../protocol/server/server';
import { ListObjectModel, ValueObject } from '../../protocol/server/value-object';

export const MINI_OBIS = {
  clock: obis('0.0.1.0.0.255'),
  energy: obis('1.0.1.8.0.255'),
  voltage: obis('1.0.32.7.0.255'),
  longData: obis('0.0.96.128.0.255'),
  profile: obis('1.0.99.1.0.255'),
} as const;

export const MINI_LONG_VALUE_LENGTH = 1000;
export const MINI_PROFILE_ROWS = 96;
export const MINI_PROFILE_PERIOD_S = 900;
/** 2026-01-01T00:00:00Z. */
export const MINI_PROFILE_START = Date.UTC(2026, 0, 1);
export const MINI_ENERGY = 1234567;

const te = new TextEncoder();

/** HLS-GMAC client 2: keys and system titles of the HLS trace (test/vectors). */
export const MINI_HLS = {
  clientAddress: 2,
  clientSystemTitle: te.encode('Gurux123'),
  meterSystemTitle: te.encode('ABCDEFGH'),
  blockKey: Uint8Array.from({ length: 16 }, (_, i) => i),
  authKey: Uint8Array.from({ length: 16 }, (_, i) => 0xd0 + i),
  masterKey: Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i),
} as const;

export const MINI_HLS_CLIENT: ClientAssociationConfig = {
  clientAddress: MINI_HLS.clientAddress,
  authentication: { mechanism: 'high-gmac' },
  access: fullAccessPolicy,
  security: { policy: 'auth-enc', systemTitle: MINI_HLS.meterSystemTitle, blockKey: MINI_HLS.blockKey, authKey: MINI_HLS.authKey, masterKey: MINI_HLS.masterKey },
};

/**
 * HLS-SHA256 (mechanism 6) clients: 3 on a plain LN context (the meter's system title from the
 * authentication), 4 with auth-enc ciphering on client 2's security setup (same keys, same
 * meter system title, so no extra security objects).
 */
export const MINI_SHA256 = {
  plainClientAddress: 3,
  cipheredClientAddress: 4,
  secret: te.encode('SHA256-secret-16'),
  clientSystemTitle: te.encode('DCUSHA01'),
  meterSystemTitle: MINI_HLS.meterSystemTitle,
} as const;

export const MINI_SHA256_CLIENTS: readonly ClientAssociationConfig[] = [
  {
    clientAddress: MINI_SHA256.plainClientAddress,
    authentication: { mechanism: 'high-sha256', secret: MINI_SHA256.secret, systemTitle: MINI_SHA256.meterSystemTitle },
    access: fullAccessPolicy,
  },
  {
    clientAddress: MINI_SHA256.cipheredClientAddress,
    authentication: { mechanism: 'high-sha256', secret: MINI_SHA256.secret },
    access: fullAccessPolicy,
    ...(MINI_HLS_CLIENT.security === undefined ? {} : { security: MINI_HLS_CLIENT.security }),
  },
];

export const MINI_CLIENTS: readonly ClientAssociationConfig[] = [
  { clientAddress: 16, authentication: { mechanism: 'none' }, access: readOnlyPolicy },
  { clientAddress: 17, authentication: { mechanism: 'low', password: te.encode('Gurux') }, access: classTablePolicy },
  { clientAddress: 1, authentication: { mechanism: 'low', password: te.encode('12345678') }, access: fullAccessPolicy },
  MINI_HLS_CLIENT,
  ...MINI_SHA256_CLIENTS,
];

const dateTime = (ms: number): Data => ({ type: 'octet-string', value: encodeDateTimeOctets(epochToDateTime(ms, { deviation: 0, hundredths: false })) });

export const MINI_CAPTURE_OBJECTS: readonly CaptureObject[] = [
  CLOCK_CAPTURE_OBJECT,
  { classId: 3, obis: MINI_OBIS.energy, attributeIndex: 2, dataIndex: 0 },
];

/** The profile's rows as stored (clock cells always present). */
export function miniProfileRows(): Data[] {
  const rows: Data[] = [];
  for (let i = 0; i < MINI_PROFILE_ROWS; i++) {
    rows.push({ type: 'structure', items: [dateTime(MINI_PROFILE_START + i * MINI_PROFILE_PERIOD_S * 1000), { type: 'uint32', value: 1000 + 10 * i }] });
  }
  return rows;
}

export function miniLongValue(): Uint8Array {
  return Uint8Array.from({ length: MINI_LONG_VALUE_LENGTH }, (_, i) => i & 0xff);
}

export interface MiniMeter {
  readonly model: ListObjectModel;
  readonly clock: ValueObject;
  readonly energy: ValueObject;
  readonly voltage: ValueObject;
  readonly longData: ValueObject;
  readonly profile: ValueObject;
}

export function createMiniMeter(): MiniMeter {
  let clockOffsetMs = 0;
  const clock = new ValueObject({
    classId: 8,
    version: 0,
    obis: MINI_OBIS.clock,
    attributes: {
      2: (ctx: RequestContext): GetOutcome => ({ ok: true, data: dateTime(ctx.now + clockOffsetMs) }),
      3: { type: 'int16', value: 0 },
      4: { type: 'uint8', value: 0 },
      5: dateTime(Date.UTC(2026, 2, 29, 1)),
      6: dateTime(Date.UTC(2026, 9, 25, 1)),
      7: { type: 'int8', value: 60 },
      8: { type: 'boolean', value: false },
      9: { type: 'enum', value: 1 },
    },
    setters: {
      2: (value, ctx) => {
        const dt = dataAsDateTime(value);
        const t = dt === undefined ? null : dateTimeToEpoch(dt);
        if (t === null) return DataAccessResult.otherReason;
        clockOffsetMs = t - ctx.now;
        return DataAccessResult.success;
      },
    },
    methods: {
      6: (p) => {
        if (p?.type !== 'int16' || Math.abs(p.value) > 900) return { result: ActionResult.otherReason };
        clockOffsetMs += p.value * 1000;
        return { result: ActionResult.success };
      },
    },
  });

  const register = (o: typeof MINI_OBIS.energy, value: Data & { type: 'uint32' | 'uint16' }, scaler: number, unit: number): ValueObject => {
    const r: ValueObject = new ValueObject({
      classId: 3,
      version: 0,
      obis: o,
      attributes: { 2: value, 3: { type: 'structure', items: [{ type: 'int8', value: scaler }, { type: 'enum', value: unit }] } },
      methods: {
        // reset: the value goes to 0 (written around the access policy, as the meter itself).
        1: (_p, ctx) => ({ result: r.set(2, { type: value.type, value: 0 }, ctx) === DataAccessResult.success ? ActionResult.success : ActionResult.otherReason }),
      },
    });
    return r;
  };
  const energy = register(MINI_OBIS.energy, { type: 'uint32', value: MINI_ENERGY }, 0, 30);
  const voltage = register(MINI_OBIS.voltage, { type: 'uint16', value: 2301 }, -1, 35);

  const longData = new ValueObject({ classId: 1, version: 0, obis: MINI_OBIS.longData, attributes: { 2: { type: 'octet-string', value: miniLongValue() } } });

  const rows = miniProfileRows();
  const buffer = (_ctx: RequestContext, selection?: Selection): GetOutcome => {
    if (selection === undefined) return { ok: true, data: { type: 'array', items: rows } };
    try {
      const sel = decodeAccessSelector(selection.selector, selection.parameters);
      return { ok: true, data: { type: 'array', items: applySelector(rows, MINI_CAPTURE_OBJECTS, sel, { capturePeriod: MINI_PROFILE_PERIOD_S }).rows } };
    } catch {
      return { ok: false, result: DataAccessResult.otherReason };
    }
  };
  const profile = new ValueObject({
    classId: 7,
    version: 1,
    obis: MINI_OBIS.profile,
    attributes: {
      2: buffer,
      3: encodeCaptureObjects(MINI_CAPTURE_OBJECTS),
      4: { type: 'uint32', value: MINI_PROFILE_PERIOD_S },
      5: { type: 'enum', value: 1 },
      6: encodeCaptureObject(CLOCK_CAPTURE_OBJECT),
      7: { type: 'uint32', value: MINI_PROFILE_ROWS },
      8: { type: 'uint32', value: MINI_PROFILE_ROWS },
    },
  });

  return { model: new ListObjectModel([clock, energy, voltage, longData, profile]), clock, energy, voltage, longData, profile };
}

/** A DlmsServer over a fresh mini meter with MINI_CLIENTS. */
export function createMiniMeterServer(
  clock: Clock,
  limits?: DlmsServerLimits,
  onInternalError?: (error: unknown) => void,
): { server: DlmsServer; meter: MiniMeter } {
  const meter = createMiniMeter();
  const server = new DlmsServer({
    model: meter.model,
    clients: MINI_CLIENTS,
    clock,
    ...(limits === undefined ? {} : { limits }),
    ...(onInternalError === undefined ? {} : { onInternalError }),
  });
  return { server, meter };
}
