/**
 * Generic validation of Data against a ValueType, a text description of a type, and a
 * default value per type (the simulator's starting point for attributes it is not given).
 */
import type { Data } from '../../axdr/data';
import type { ValueType } from './types';

export type ValueCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Where inside the value: '' for the top, '[3].attribute_index' inside. */
      readonly path: string;
      readonly expected: string;
      readonly got: string;
    };

const OK: ValueCheck = { ok: true };

function got(d: Data): string {
  switch (d.type) {
    case 'array':
    case 'structure':
    case 'compact-array':
      return `${d.type}(${d.items.length})`;
    case 'octet-string':
      return `octet-string(${d.value.length})`;
    default:
      return d.type;
  }
}

export function describeType(t: ValueType): string {
  switch (t.kind) {
    case 'simple':
      return t.type;
    case 'octets':
      return t.format === 'obis' ? 'octet-string(6) OBIS' : t.size === undefined ? 'octet-string' : `octet-string(${t.size})`;
    case 'date-time':
      return 'date-time (octet-string(12))';
    case 'one-of':
      return t.label;
    case 'any-simple':
      return 'a simple type';
    case 'any':
      return 'any Data';
    case 'array':
      return `array of ${describeType(t.element)}`;
    case 'structure':
      return `structure{${t.fields.map((f) => `${f.name}: ${describeType(f.type)}`).join(', ')}}`;
  }
}

/** Short description (structures not expanded) for mismatch messages. */
function brief(t: ValueType): string {
  if (t.kind === 'structure') return `structure of ${t.fields.length}`;
  if (t.kind === 'array') return 'array';
  return describeType(t);
}

export function checkValue(t: ValueType, d: Data, path = ''): ValueCheck {
  const fail = (): ValueCheck => ({ ok: false, path, expected: brief(t), got: got(d) });
  switch (t.kind) {
    case 'any':
      return OK;
    case 'any-simple':
      return d.type === 'array' || d.type === 'structure' || d.type === 'compact-array' ? fail() : OK;
    case 'simple':
      return d.type === t.type ? OK : fail();
    case 'octets':
      if (d.type !== 'octet-string') return fail();
      return t.size === undefined || d.value.length === t.size ? OK : fail();
    case 'date-time':
      return d.type === 'date-time' || (d.type === 'octet-string' && d.value.length === 12) ? OK : fail();
    case 'one-of': {
      for (const option of t.options) if (checkValue(option, d, path).ok) return OK;
      return fail();
    }
    case 'array': {
      if (d.type !== 'array' && d.type !== 'compact-array') return fail();
      for (let i = 0; i < d.items.length; i++) {
        const item = d.items[i];
        if (item === undefined) continue;
        const r = checkValue(t.element, item, `${path}[${i}]`);
        if (!r.ok) return r;
      }
      return OK;
    }
    case 'structure': {
      if (d.type !== 'structure' || d.items.length !== t.fields.length) return fail();
      for (let i = 0; i < t.fields.length; i++) {
        const f = t.fields[i];
        const item = d.items[i];
        if (f === undefined || item === undefined) continue;
        const r = checkValue(f.type, item, path === '' ? f.name : `${path}.${f.name}`);
        if (!r.ok) return r;
      }
      return OK;
    }
  }
}

const UNSPECIFIED_DATE_TIME = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x00, 0xff]);

/** A valid, neutral value of the type: zeros, empty strings and arrays, unspecified date-times. */
export function defaultValue(t: ValueType): Data {
  switch (t.kind) {
    case 'any':
    case 'any-simple':
      return { type: 'null' };
    case 'octets':
      return { type: 'octet-string', value: new Uint8Array(t.format === 'obis' ? 6 : (t.size ?? 0)) };
    case 'date-time':
      return { type: 'octet-string', value: UNSPECIFIED_DATE_TIME.slice() };
    case 'one-of': {
      const first = t.options[0];
      return first === undefined ? { type: 'null' } : defaultValue(first);
    }
    case 'array':
      return { type: 'array', items: [] };
    case 'structure':
      return { type: 'structure', items: t.fields.map((f) => defaultValue(f.type)) };
    case 'simple':
      switch (t.type) {
        case 'int64':
        case 'uint64':
          return { type: t.type, value: 0n };
        case 'boolean':
          return { type: 'boolean', value: false };
        case 'bit-string':
          return { type: 'bit-string', length: 0, value: new Uint8Array(0) };
        case 'octet-string':
          return { type: 'octet-string', value: new Uint8Array(0) };
        case 'visible-string':
        case 'utf8-string':
          return { type: t.type, value: '' };
        case 'int8':
        case 'int16':
        case 'int32':
        case 'uint8':
        case 'uint16':
        case 'uint32':
        case 'enum':
        case 'bcd':
        case 'float32':
        case 'float64':
          return { type: t.type, value: 0 };
        case 'date-time':
          return { type: 'date-time', value: { year: null, month: null, day: null, dayOfWeek: null, hour: null, minute: null, second: null, hundredths: null, deviation: null, clockStatus: null } };
        case 'date':
          return { type: 'date', value: { year: null, month: null, day: null, dayOfWeek: null } };
        case 'time':
          return { type: 'time', value: { hour: null, minute: null, second: null, hundredths: null } };
        case 'null':
        case 'array':
        case 'structure':
        case 'compact-array':
          return t.type === 'array' ? { type: 'array', items: [] } : t.type === 'structure' ? { type: 'structure', items: [] } : { type: 'null' };
      }
  }
}
