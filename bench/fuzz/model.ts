/**
 * The small meter the fuzz runner talks to (and the hostile meter associates with): a register
 * with a reset method, a long octet-string (block transfer), and a load profile.
 */
import { ActionResult } from '../../protocol/apdu/results';
import { conformance, type Conformance } from '../../protocol/apdu/conformance';
import type { Data } from '../../protocol/axdr/data';
import { encodeDateTimeOctets, epochToDateTime } from '../../protocol/axdr/datetime';
import type { Clock } from '../../protocol/common/clock';
import { CLOCK_CAPTURE_OBJECT, encodeCaptureObjects, type CaptureObject } from '../../protocol/cosem/capture-object';
import type { Obis } from '../../protocol/cosem/obis';
import { encodeObjectList, type ObjectListEntry } from '../../protocol/cosem/object-list';
import { DEFAULT_SERVER_CONFORMANCE, DlmsServer, fullAccessPolicy, ListObjectModel, readOnlyPolicy, ValueObject } from '../../protocol/server';

export const FUZZ_OBIS = {
  register: [1, 0, 1, 8, 0, 255] as Obis,
  longData: [0, 0, 96, 128, 0, 255] as Obis,
  profile: [1, 0, 99, 1, 0, 255] as Obis,
};

/** Management client (LLS) that may SET and ACTION. */
export const FUZZ_MANAGEMENT = { clientAddress: 1, password: new TextEncoder().encode('12345678') } as const;

export const FUZZ_CAPTURE_OBJECTS: readonly CaptureObject[] = [CLOCK_CAPTURE_OBJECT, { classId: 3, obis: FUZZ_OBIS.register, attributeIndex: 2, dataIndex: 0 }];

export const GBT_CONFORMANCE: Conformance = conformance('general-block-transfer', ...DEFAULT_SERVER_CONFORMANCE);

/** A profile buffer of `rows` 15-minute rows {clock, +A}. */
export function fuzzProfileBuffer(rows = 24): Data {
  const items: Data[] = [];
  for (let i = 0; i < rows; i++) {
    const t = Date.UTC(2026, 0, 1) + i * 900_000;
    items.push({
      type: 'structure',
      items: [
        { type: 'octet-string', value: encodeDateTimeOctets(epochToDateTime(t, { deviation: 0, hundredths: false })) },
        { type: 'uint32', value: 1000 + 10 * i },
      ],
    });
  }
  return { type: 'array', items };
}

export function fuzzObjectList(): Data {
  const entries: ObjectListEntry[] = [3, 1, 7].map((classId, i) => ({
    classId,
    version: 0,
    obis: [FUZZ_OBIS.register, FUZZ_OBIS.longData, FUZZ_OBIS.profile][i] ?? FUZZ_OBIS.register,
    attributeAccess: [1, 2, 3].map((index) => ({ index, mode: 1, selectors: index === 2 && classId === 7 ? [1, 2] : null })),
    methodAccess: [{ index: 1, mode: 1 }],
  }));
  return encodeObjectList(entries);
}

export function createFuzzServer(clock: Clock, gbt = false, maxReceivePduSize = 512): DlmsServer {
  const register = new ValueObject({
    classId: 3,
    version: 0,
    obis: FUZZ_OBIS.register,
    attributes: { 2: { type: 'uint32', value: 42 }, 3: { type: 'structure', items: [{ type: 'int8', value: 0 }, { type: 'enum', value: 30 }] } },
    methods: { 1: () => ({ result: ActionResult.success }) },
  });
  const longData = new ValueObject({
    classId: 1,
    version: 0,
    obis: FUZZ_OBIS.longData,
    attributes: { 2: { type: 'octet-string', value: Uint8Array.from({ length: 600 }, (_, i) => i & 0xff) } },
  });
  const profile = new ValueObject({
    classId: 7,
    version: 1,
    obis: FUZZ_OBIS.profile,
    attributes: { 2: fuzzProfileBuffer(), 3: encodeCaptureObjects(FUZZ_CAPTURE_OBJECTS), 4: { type: 'uint32', value: 900 } },
  });
  return new DlmsServer({
    model: new ListObjectModel([register, longData, profile]),
    clients: [
      { clientAddress: 16, authentication: { mechanism: 'none' }, access: readOnlyPolicy },
      { clientAddress: FUZZ_MANAGEMENT.clientAddress, authentication: { mechanism: 'low', password: FUZZ_MANAGEMENT.password }, access: fullAccessPolicy },
    ],
    clock,
    limits: { maxReceivePduSize, conformance: gbt ? GBT_CONFORMANCE : DEFAULT_SERVER_CONFORMANCE },
  });
}
