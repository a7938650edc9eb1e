import fc from 'fast-check';
import { decodeData, encodeData } from '../../../protocol/axdr/codec';
import type { Data } from '../../../protocol/axdr/data';
import { array, nullData, octets, structure, uint32, uint8 } from '../../../protocol/axdr/data';
import { encodeDateTimeOctets, epochToDateTime } from '../../../protocol/axdr/datetime';
import { ErrorCode, isDcuError } from '../../../protocol/common/errors';
import { toHex } from '../../../protocol/common/hex';
import type { CaptureObject } from '../../../protocol/cosem/capture-object';
import { CLOCK_CAPTURE_OBJECT } from '../../../protocol/cosem/capture-object';
import { parseObis } from '../../../protocol/cosem/obis';
import type { AccessSelector } from '../../../protocol/cosem/selective-access';
import { applySelector, decodeAccessSelector, encodeAccessSelector, rangeByEntry, rangeByTime, selectedColumns } from '../../../protocol/cosem/selective-access';
import { arbData } from '../../helpers/arbitraries';
import { codeOf } from './trace';

const STATUS: CaptureObject = { classId: 1, obis: parseObis('0.0.96.10.1.255'), attributeIndex: 2, dataIndex: 0 };
const ENERGY: CaptureObject = { classId: 3, obis: parseObis('1.0.1.8.0.255'), attributeIndex: 2, dataIndex: 0 };
const COLS = [CLOCK_CAPTURE_OBJECT, STATUS, ENERGY];
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0);
const clockCell = (ms: number): Data => octets(encodeDateTimeOctets(epochToDateTime(ms, { hundredths: false })));
/** 8 quarter-hour rows: clock, status, energy = 100 + i. */
const ROWS = Array.from({ length: 8 }, (_, i) => structure(clockCell(T0 + i * 900_000), uint8(0), uint32(100 + i)));
const energyOf = (rows: Data[]): number[] => rows.map((r) => (r.type === 'structure' && r.items.at(-1)?.type === 'uint32' ? (r.items.at(-1) as { value: number }).value : -1));

describe('selector codec', () => {
  it('entry descriptor bytes', () => {
    const { selector, parameters } = encodeAccessSelector(rangeByEntry(1, 0, 1, 0));
    expect(selector).toBe(2);
    expect(toHex(encodeData(parameters))).toBe('020406000000010600000000120001120000');
  });

  it('range descriptor bytes: clock restricting object, date-times as octet-string(12), no columns', () => {
    const sel = rangeByTime(Date.UTC(2026, 10, 23, 0, 0, 0), Date.UTC(2026, 10, 24, 0, 0, 0));
    const { selector, parameters } = encodeAccessSelector(sel);
    expect(selector).toBe(1);
    expect(toHex(encodeData(parameters))).toBe(
      '0204' +
        '020412000809060000010000FF0F02120000' +
        '090C07EA0B1701000000FF0000FF' +
        '090C07EA0B1802000000FF0000FF' +
        '0100',
    );
  });

  it('writes the deviation in the meter convention', () => {
    const sel = rangeByTime(T0, T0, { deviation: -60, convention: 'inverted' });
    // local 01:00, deviation sent as +60 (0x003C)
    expect(toHex(encodeData(sel.from))).toBe('090C07EA0B1701010000FF003CFF');
  });

  it('round-trips both selectors through bytes', () => {
    const sels: AccessSelector[] = [rangeByTime(T0, T0 + 3600_000, { columns: [CLOCK_CAPTURE_OBJECT, ENERGY] }), rangeByEntry(3, 7, 2, 3)];
    for (const s of sels) {
      const { selector, parameters } = encodeAccessSelector(s);
      expect(decodeAccessSelector(selector, decodeData(encodeData(parameters)))).toEqual(s);
    }
  });

  it('rejects bad selectors with typed errors', () => {
    expect(codeOf(() => decodeAccessSelector(3, nullData()))).toBe(ErrorCode.MeterUnsupported);
    expect(codeOf(() => decodeAccessSelector(2, structure(uint32(1), uint32(2))))).toBe(ErrorCode.DecodeBadValue);
    expect(codeOf(() => decodeAccessSelector(1, structure(uint8(1), nullData(), nullData(), array([]))))).toBe(ErrorCode.DecodeBadValue);
    expect(codeOf(() => rangeByEntry(-1))).toBe(ErrorCode.InvalidValue);
    expect(codeOf(() => rangeByEntry(1, 0, 70000))).toBe(ErrorCode.InvalidValue);
  });

  it('random parameters only ever fail with DcuError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), arbData, (s, d) => {
        try {
          decodeAccessSelector(s, d);
        } catch (e) {
          expect(isDcuError(e)).toBe(true);
        }
      }),
    );
  });
});

describe('applySelector (server side)', () => {
  it('by entry: 1-based, 0 = last, clipped to what is stored', () => {
    expect(energyOf(applySelector(ROWS, COLS, rangeByEntry(1)).rows)).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
    expect(energyOf(applySelector(ROWS, COLS, rangeByEntry(3, 5)).rows)).toEqual([102, 103, 104]);
    expect(energyOf(applySelector(ROWS, COLS, rangeByEntry(7, 20)).rows)).toEqual([106, 107]);
    expect(applySelector(ROWS, COLS, rangeByEntry(9)).rows).toEqual([]);
    expect(codeOf(() => applySelector(ROWS, COLS, rangeByEntry(5, 3)))).toBe(ErrorCode.InvalidValue);
  });

  it('by entry: column range', () => {
    const sel = applySelector(ROWS, COLS, rangeByEntry(1, 1, 2, 0));
    expect(sel.columns).toEqual([1, 2]);
    expect(sel.rows).toEqual([structure(uint8(0), uint32(100))]);
    expect(selectedColumns(COLS, rangeByEntry(1, 1, 3, 3))).toEqual([2]);
    expect(codeOf(() => selectedColumns(COLS, rangeByEntry(1, 1, 2, 4)))).toBe(ErrorCode.InvalidValue);
  });

  it('by range on the clock: inclusive at both ends', () => {
    const sel = applySelector(ROWS, COLS, rangeByTime(T0 + 900_000, T0 + 3 * 900_000));
    expect(energyOf(sel.rows)).toEqual([101, 102, 103]);
    expect(sel.columns).toEqual([0, 1, 2]);
  });

  it('by range with selected columns, in the order asked', () => {
    const sel = applySelector(ROWS, COLS, rangeByTime(T0, T0, { columns: [ENERGY, CLOCK_CAPTURE_OBJECT] }));
    expect(sel.columns).toEqual([2, 0]);
    expect(sel.rows).toEqual([structure(uint32(100), clockCell(T0))]);
    expect(codeOf(() => applySelector(ROWS, COLS, rangeByTime(T0, T0, { columns: [{ ...ENERGY, attributeIndex: 3 }] })))).toBe(ErrorCode.InvalidValue);
  });

  it('by range honours the deviation convention of the stored clock', () => {
    const local = ROWS.map((r, i) => structure(octets(encodeDateTimeOctets(epochToDateTime(T0 + i * 900_000, { deviation: -60, hundredths: false }))), uint8(0), uint32(100 + i)));
    expect(energyOf(applySelector(local, COLS, rangeByTime(T0, T0 + 900_000, { deviation: -60 })).rows)).toEqual([100, 101]);
  });

  it('by range counts null clock cells as previous + capture_period', () => {
    const sparse = ROWS.map((r, i) => (i % 4 === 0 || r.type !== 'structure' ? r : structure(nullData(), ...r.items.slice(1))));
    expect(energyOf(applySelector(sparse, COLS, rangeByTime(T0 + 2 * 900_000, T0 + 5 * 900_000), { capturePeriod: 900 }).rows)).toEqual([102, 103, 104, 105]);
    expect(energyOf(applySelector(sparse, COLS, rangeByTime(T0 + 2 * 900_000, T0 + 5 * 900_000)).rows)).toEqual([104]);
  });

  it('an unspecified bound leaves that side open', () => {
    const open = rangeByTime(T0 + 6 * 900_000, T0);
    const sel = { ...open, to: octets(new Uint8Array(12).fill(0xff)) };
    expect(energyOf(applySelector(ROWS, COLS, sel).rows)).toEqual([106, 107]);
  });

  it('a restricting object that is not captured is a typed error', () => {
    expect(codeOf(() => applySelector(ROWS, COLS, rangeByTime(T0, T0, { restrictingObject: { ...ENERGY, attributeIndex: 5 } })))).toBe(ErrorCode.InvalidValue);
  });
});
