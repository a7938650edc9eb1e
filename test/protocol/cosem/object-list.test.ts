import fc from 'fast-check';
import { decodeData, encodeData } from '../../../protocol/axdr/codec';
import { DcuError, isDcuError } from '../../../protocol/common/errors';
import { bytesEqual, toHex } from '../../../protocol/common/hex';
import { getClass } from '../../../protocol/cosem/classes';
import { formatObis, parseObis } from '../../../protocol/cosem/obis';
import {
  attributeAccessName,
  canRead,
  canWrite,
  decodeObjectList,
  describeObjectListEntry,
  encodeObjectList,
} from '../../../protocol/cosem/object-list';
import type { ObjectListEntry } from '../../../protocol/cosem/object-list';
import { arbData } from '../../helpers/arbitraries';
import { getResponseData } from './trace';

const raw = getResponseData('ln-hdlc-none-clock.log')[0];
if (raw === undefined) throw new Error('no association view in the trace');

/** What the trace's association view holds: class, version, OBIS, #attributes, #methods. */
const EXPECTED: readonly (readonly [number, number, string, number, number])[] = [
  [15, 2, '0.0.40.0.0.255', 11, 6],
  [15, 2, '0.0.40.0.1.255', 11, 6],
  [64, 0, '0.0.43.0.1.255', 5, 2],
  [64, 0, '0.0.43.0.2.255', 5, 2],
  [64, 0, '0.0.43.0.3.255', 5, 2],
  [64, 0, '0.0.43.0.4.255', 5, 2],
  [1, 0, '0.0.42.0.0.255', 2, 0],
  [17, 0, '0.0.41.0.0.255', 2, 1],
  [1, 0, '0.0.96.11.0.255', 2, 0],
  [8, 0, '0.0.1.0.0.255', 9, 6],
  [3, 0, '1.1.21.25.0.255', 3, 1],
  [40, 0, '0.0.25.9.0.255', 7, 1],
  [9, 0, '0.0.10.0.108.255', 2, 1],
  [9, 0, '0.0.10.0.0.255', 2, 1],
  [9, 0, '0.0.10.0.106.255', 2, 1],
  [9, 0, '0.0.10.0.101.255', 2, 1],
  [9, 0, '0.0.10.0.102.255', 2, 1],
  [7, 1, '1.0.99.1.0.255', 8, 2],
  [7, 1, '1.0.99.98.0.255', 8, 2],
  [23, 1, '0.0.22.0.0.255', 9, 0],
  [70, 1, '0.0.96.3.10.255', 4, 2],
  [22, 0, '0.0.15.0.4.255', 4, 0],
  [22, 0, '0.0.15.0.3.255', 4, 0],
  [22, 0, '0.0.15.0.1.255', 4, 0],
  [1, 0, '0.0.1.1.0.255', 2, 0],
  [1, 0, '0.0.43.1.0.255', 2, 0],
  [18, 0, '0.0.44.0.0.255', 7, 4],
  [41, 0, '0.0.25.0.0.255', 6, 0],
  [29, 2, '0.0.2.1.0.255', 6, 1],
  [20, 0, '0.0.13.0.0.255', 10, 1],
  [19, 1, '0.0.20.0.0.255', 9, 0],
  [5, 0, '1.0.31.4.0.255', 9, 2],
  [21, 0, '0.0.16.1.0.255', 4, 0],
  [28, 0, '0.0.2.2.0.255', 6, 0],
  [27, 1, '0.0.2.0.0.255', 4, 0],
  [43, 0, '0.0.25.2.0.255', 2, 0],
  [42, 0, '0.0.25.1.0.255', 10, 3],
  [44, 0, '0.0.25.3.0.255', 5, 0],
  [45, 0, '0.0.25.4.0.255', 4, 0],
  [9, 0, '0.0.10.0.100.255', 2, 1],
  [6, 0, '0.0.14.0.1.255', 4, 3],
  [71, 0, '0.0.17.0.0.255', 11, 0],
  [77, 0, '0.0.24.9.0.255', 9, 1],
  [76, 0, '0.0.24.8.0.255', 11, 0],
  [90, 1, '0.0.29.0.0.255', 10, 1],
  [91, 3, '0.0.29.1.0.255', 26, 2],
  [92, 3, '0.0.29.2.0.255', 23, 0],
  [123, 0, '0.0.18.0.0.255', 2, 5],
  [151, 1, '0.0.25.11.0.255', 3, 0],
  [111, 0, '0.0.19.0.0.255', 19, 3],
  [100, 0, '0.0.25.10.0.255', 7, 3],
  [48, 0, '0.0.25.7.0.255', 10, 2],
];

describe('object_list from the ln-hdlc-none-clock trace', () => {
  const data = decodeData(raw);
  const list = decodeObjectList(data);

  it('reassembles to one Data: an array of 52 (0x34) entries', () => {
    expect(toHex(raw.subarray(0, 2))).toBe('0134');
    expect(list).toHaveLength(52);
  });

  it('lists the objects the trace holds', () => {
    expect(list.map((e) => [e.classId, e.version, formatObis(e.obis), e.attributeAccess.length, e.methodAccess.length])).toEqual(EXPECTED);
  });

  it('gives the public client read access and no method access; selectors are null', () => {
    for (const e of list) {
      expect(e.attributeAccess.map((a) => a.index)).toEqual(e.attributeAccess.map((_, i) => i + 1));
      for (const a of e.attributeAccess) {
        expect(a.mode).toBe(1);
        expect(a.selectors).toBeNull();
      }
      for (const m of e.methodAccess) expect(m.mode).toBe(0);
    }
  });

  it('agrees with the class tables on attribute and method counts of every described class', () => {
    let checked = 0;
    for (const e of list) {
      const c = getClass(e.classId, e.version);
      if (c === undefined) continue;
      checked++;
      expect([e.classId, c.attributes.map((a) => a.index)]).toEqual([e.classId, e.attributeAccess.map((a) => a.index)]);
      expect([e.classId, c.methods.map((m) => m.index)]).toEqual([e.classId, e.methodAccess.map((m) => m.index)]);
    }
    expect(checked).toBeGreaterThanOrEqual(19);
  });

  it('re-encodes byte for byte', () => {
    expect(bytesEqual(encodeData(encodeObjectList(list)), raw)).toBe(true);
  });

  it('describes entries for display', () => {
    expect(describeObjectListEntry(list[0] as ObjectListEntry)).toBe('15 v2 0.0.40.0.0.255 Association LN (current association)');
    expect(describeObjectListEntry(list[20] as ObjectListEntry)).toBe('70 v1 0.0.96.3.10.255 Disconnect control (disconnect control)');
  });
});

describe('object_list encode/decode', () => {
  const entry: ObjectListEntry = {
    classId: 7,
    version: 1,
    obis: parseObis('1.0.99.1.0.255'),
    attributeAccess: [
      { index: 1, mode: 1, selectors: null },
      { index: 2, mode: 4, selectors: [1, 2] },
      { index: 4, mode: 3, selectors: null },
    ],
    methodAccess: [{ index: 1, mode: 2 }],
  };

  it('round-trips selectors, authenticated modes and v0 boolean method access', () => {
    const v0: ObjectListEntry = { ...entry, classId: 15, version: 0, methodAccess: [{ index: 1, mode: 1, asBoolean: true }, { index: 2, mode: 0, asBoolean: true }] };
    const bytes = encodeData(encodeObjectList([entry, v0]));
    expect(decodeObjectList(decodeData(bytes))).toEqual([entry, v0]);
    // the boolean travels as tag 03
    expect(toHex(bytes)).toContain('02020F010301');
  });

  it('names access modes', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 9].map(attributeAccessName)).toEqual([
      'no-access',
      'read',
      'write',
      'read-write',
      'authenticated-read',
      'authenticated-write',
      'authenticated-read-write',
      'access(9)',
    ]);
    expect([0, 1, 2, 3, 4, 5, 6].map(canRead)).toEqual([false, true, false, true, true, false, true]);
    expect([0, 1, 2, 3, 4, 5, 6].map(canWrite)).toEqual([false, false, true, true, false, true, true]);
  });

  it('malformed entries give DecodeBadValue naming the path', () => {
    const bytes = encodeData(encodeObjectList([entry]));
    const broken = decodeData(bytes);
    if (broken.type !== 'array' || broken.items[0]?.type !== 'structure') throw new Error('shape');
    broken.items[0].items[2] = { type: 'uint8', value: 1 };
    expect(() => decodeObjectList(broken)).toThrow(/\[0\]\.logical_name/);
    expect(() => decodeObjectList({ type: 'structure', items: [] })).toThrow(DcuError);
  });

  it('random Data never escapes as anything but DcuError', () => {
    fc.assert(
      fc.property(arbData, (d) => {
        try {
          decodeObjectList(d);
        } catch (e) {
          expect(isDcuError(e)).toBe(true);
        }
      }),
    );
  });
});
