import { decodeData, encodeData } from '../../../protocol/axdr/codec';
import { array, bool, enumValue, int16, int8, octets, structure, uint16, uint32, uint8, visible } from '../../../protocol/axdr/data';
import { ErrorCode } from '../../../protocol/common/errors';
import {
  attributeName,
  CLASS_DESCRIPTORS,
  checkAttributeValue,
  checkMethodParameter,
  className,
  defaultValue,
  describeAttributeRef,
  describeType,
  formatRef,
  getClass,
  methodName,
  parseAttributeRef,
  parseMethodRef,
  requireClass,
  valueCheckError,
} from '../../../protocol/cosem/classes';
import { parseObis } from '../../../protocol/cosem/obis';
import { codeOf } from './trace';

const obisData = octets(Uint8Array.of(1, 0, 1, 8, 0, 255));
const dateTime12 = octets(new Uint8Array(12));

describe('class tables', () => {
  it('every class version has logical_name first, consecutive attribute and method indexes, unique names', () => {
    for (const c of CLASS_DESCRIPTORS) {
      expect([c.id, c.attributes[0]?.name]).toEqual([c.id, 'logical_name']);
      expect(c.attributes.map((a) => a.index)).toEqual(c.attributes.map((_, i) => i + 1));
      expect(c.methods.map((m) => m.index)).toEqual(c.methods.map((_, i) => i + 1));
      expect(new Set(c.attributes.map((a) => a.name)).size).toBe(c.attributes.length);
      expect(new Set(c.methods.map((m) => m.name)).size).toBe(c.methods.length);
    }
  });

  it('default values satisfy their own types and survive the A-XDR codec', () => {
    for (const c of CLASS_DESCRIPTORS) {
      for (const a of c.attributes) {
        const d = defaultValue(a.type);
        expect([c.id, a.name, checkAttributeValue(c.id, a.index, d, c.version).ok]).toEqual([c.id, a.name, true]);
        expect(decodeData(encodeData(d))).toEqual(d);
      }
      for (const m of c.methods) expect([c.id, m.name, checkMethodParameter(c.id, m.index, defaultValue(m.param), c.version).ok]).toEqual([c.id, m.name, true]);
    }
  });

  it('picks versions: exact, else the highest below, else the lowest', () => {
    expect(getClass(15)?.version).toBe(2);
    expect(getClass(15, 1)?.attributes).toHaveLength(9);
    expect(getClass(15, 0)?.attributes).toHaveLength(8);
    expect(getClass(15, 3)?.version).toBe(2);
    expect(getClass(64, 0)?.methods.map((m) => m.name)).toEqual(['security_activate', 'global_key_transfer']);
    expect(getClass(64, 1)?.methods).toHaveLength(8);
    expect(getClass(7, 0)?.methods).toHaveLength(4);
    expect(getClass(70, 1)?.version).toBe(0);
    expect(getClass(9999)).toBeUndefined();
    expect(codeOf(() => requireClass(9999))).toBe(ErrorCode.UnknownClass);
  });

  it('names classes, attributes and methods', () => {
    expect(className(3)).toBe('Register');
    expect(className(23)).toBe('IEC HDLC setup');
    expect(className(60000)).toBeUndefined();
    expect(attributeName(3, 2)).toBe('value');
    expect(attributeName(7, 3)).toBe('capture_objects');
    expect(attributeName(8, 9)).toBe('clock_base');
    expect(attributeName(18, 6)).toBe('image_transfer_status');
    expect(attributeName(3, 12)).toBe('attribute 12');
    expect(attributeName(4242, 2)).toBe('attribute 2');
    expect(methodName(8, 6)).toBe('shift_time');
    expect(methodName(15, 1)).toBe('reply_to_hls_authentication');
    expect(methodName(70, 1)).toBe('remote_disconnect');
  });
});

describe('checkAttributeValue', () => {
  it('accepts well-formed values', () => {
    expect(checkAttributeValue(3, 3, structure(int8(-3), enumValue(30)))).toEqual({ ok: true });
    expect(checkAttributeValue(3, 2, uint32(5))).toEqual({ ok: true });
    expect(checkAttributeValue(1, 2, array([uint8(1)]))).toEqual({ ok: true });
    expect(checkAttributeValue(8, 2, dateTime12)).toEqual({ ok: true });
    expect(checkAttributeValue(8, 3, int16(-60))).toEqual({ ok: true });
    expect(checkAttributeValue(7, 3, array([structure(uint16(8), octets(Uint8Array.of(0, 0, 1, 0, 0, 255)), int8(2), uint16(0))]))).toEqual({ ok: true });
    expect(checkAttributeValue(70, 2, bool(true))).toEqual({ ok: true });
    expect(checkAttributeValue(15, 11, structure(uint8(1), visible('admin')))).toEqual({ ok: true });
    expect(checkAttributeValue(15, 3, structure(int8(16), uint16(1)))).toEqual({ ok: true });
  });

  it('reports where and what differs', () => {
    expect(checkAttributeValue(3, 2, array([]))).toEqual({ ok: false, path: '', expected: 'a simple type', got: 'array(0)' });
    expect(checkAttributeValue(3, 3, structure(int8(-3), uint8(30)))).toEqual({ ok: false, path: 'unit', expected: 'enum', got: 'uint8' });
    expect(checkAttributeValue(8, 2, octets(new Uint8Array(11)))).toMatchObject({ ok: false, got: 'octet-string(11)' });
    const bad = checkAttributeValue(7, 3, array([structure(uint16(8), obisData, int8(2), uint16(0)), structure(uint16(3), octets(new Uint8Array(5)), int8(2), uint16(0))]));
    expect(bad).toEqual({ ok: false, path: '[1].logical_name', expected: 'octet-string(6) OBIS', got: 'octet-string(5)' });
    const err = valueCheckError(bad, 'capture_objects');
    expect(err?.code).toBe(ErrorCode.InvalidValue);
    expect(err?.message).toBe('capture_objects at [1].logical_name: expected octet-string(6) OBIS, got octet-string(5)');
    expect(valueCheckError({ ok: true }, 'x')).toBeUndefined();
  });

  it('checks method parameters', () => {
    expect(checkMethodParameter(8, 6, int16(30)).ok).toBe(true);
    expect(checkMethodParameter(18, 1, structure(octets(Uint8Array.of(1)), uint32(10))).ok).toBe(true);
    expect(checkMethodParameter(18, 2, structure(uint32(0), uint8(1)))).toMatchObject({ ok: false, path: 'image_block_value' });
  });

  it('unknown class or member is a typed error', () => {
    expect(codeOf(() => checkAttributeValue(4242, 2, uint8(1)))).toBe(ErrorCode.UnknownClass);
    expect(codeOf(() => checkAttributeValue(3, 9, uint8(1)))).toBe(ErrorCode.Usage);
    expect(codeOf(() => checkMethodParameter(3, 2, int8(0)))).toBe(ErrorCode.Usage);
  });

  it('describes types for help text', () => {
    const c = getClass(3);
    expect(describeType(c?.attributes[2]?.type ?? { kind: 'any' })).toBe('structure{scaler: int8, unit: enum}');
  });
});

describe('attribute and method references', () => {
  const energy = parseObis('1.0.1.8.0.255');
  it.each([
    ['3:1.0.1.8.0.255:2', 3, 2],
    ['register:1-0:1.8.0*255:value', 3, 2],
    ['Register:1-0:1.8.0:scaler_unit', 3, 3],
    ['extended_register:1.0.1.8.0.255:capture-time', 4, 5],
  ])('%s', (text, classId, index) => {
    const ref = parseAttributeRef(text);
    expect(ref).toEqual({ classId, obis: energy, index });
  });

  it('parses names with spaces, methods, and formats back', () => {
    expect(parseAttributeRef('profile generic:1.0.99.1.0.255:buffer')).toEqual({ classId: 7, obis: parseObis('1.0.99.1.0.255'), index: 2 });
    expect(parseMethodRef('clock:0-0:1.0.0*255:shift_time')).toEqual({ classId: 8, obis: parseObis('0.0.1.0.0.255'), index: 6 });
    expect(parseMethodRef('18:0.0.44.0.0.255:1').index).toBe(1);
    const ref = parseAttributeRef('register:1-0:1.8.0*255:value');
    expect(formatRef(ref)).toBe('3:1.0.1.8.0.255:2');
    expect(parseAttributeRef(formatRef(ref))).toEqual(ref);
    expect(describeAttributeRef(ref)).toBe('Register 1.0.1.8.0.255 value');
    // numeric class ids of undescribed classes are fine with numeric members
    expect(parseAttributeRef('23:0.0.22.0.0.255:3').classId).toBe(23);
  });

  it.each([
    ['nonsense', ErrorCode.Usage],
    ['3:1.0.1.8.0.255', ErrorCode.Usage],
    ['3:1.0.1.8.0:2', ErrorCode.UnknownObis],
    ['meter:1.0.1.8.0.255:2', ErrorCode.UnknownClass],
    ['register:1.0.1.8.0.255:buffer', ErrorCode.Usage],
    ['3:1.0.1.8.0.255:0', ErrorCode.Usage],
    ['23:0.0.22.0.0.255:comm_speed', ErrorCode.UnknownClass],
  ])('%s → error %i', (text, code) => {
    expect(codeOf(() => parseAttributeRef(text))).toBe(code);
  });

  it('lists the attributes when a name is wrong', () => {
    expect(() => parseAttributeRef('register:1.0.1.8.0.255:valu')).toThrow(/1 logical_name, 2 value, 3 scaler_unit/);
  });
});
