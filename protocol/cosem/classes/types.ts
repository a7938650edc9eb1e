/**
 * The vocabulary in which interface classes are described: value types (what Data an
 * attribute or method parameter holds), access modes and the descriptors themselves.
 * One generic checker (checkValue) and one default builder (defaultValue) work over it,
 * for the client (validate before SET/ACTION) and the meter simulator alike.
 */
import type { DataType } from '../../axdr/data';

export type ValueType =
  /** Exactly this Data type. */
  | {
      readonly kind: 'simple';
      readonly type: DataType;
      /** Meaning of each value of an enum, for display. */
      readonly enumNames?: Readonly<Record<number, string>>;
      /** Meaning of each set bit (bit 0 = least significant) of an unsigned status, for display. */
      readonly flagNames?: Readonly<Record<number, string>>;
    }
  /** octet-string, optionally of a fixed size, with a meaning for display. */
  | { readonly kind: 'octets'; readonly size?: number; readonly format?: 'obis' | 'date-time' | 'date' | 'time' }
  /** A date-time: octet-string(12) (usual) or Data tag 25. */
  | { readonly kind: 'date-time' }
  /** Any one of the options (a CHOICE, or "null or X"). */
  | { readonly kind: 'one-of'; readonly options: readonly ValueType[]; readonly label: string }
  /** Any Data that is not array / structure / compact-array (Register value). */
  | { readonly kind: 'any-simple' }
  /** Any Data at all (Data value, thresholds, generic CHOICE). */
  | { readonly kind: 'any' }
  | { readonly kind: 'array'; readonly element: ValueType }
  | { readonly kind: 'structure'; readonly fields: readonly Field[] };

export interface Field {
  readonly name: string;
  readonly type: ValueType;
}

// Constructors keep the class tables readable.
export const t = {
  simple: (type: DataType): ValueType => ({ kind: 'simple', type }),
  enum: (names?: Record<number, string>): ValueType => (names ? { kind: 'simple', type: 'enum', enumNames: names } : { kind: 'simple', type: 'enum' }),
  boolean: (): ValueType => ({ kind: 'simple', type: 'boolean' }),
  int8: (): ValueType => ({ kind: 'simple', type: 'int8' }),
  int16: (): ValueType => ({ kind: 'simple', type: 'int16' }),
  uint8: (): ValueType => ({ kind: 'simple', type: 'uint8' }),
  /** An unsigned status whose bits have names (clock status). */
  flags: (type: DataType, names: Record<number, string>): ValueType => ({ kind: 'simple', type, flagNames: names }),
  uint16: (): ValueType => ({ kind: 'simple', type: 'uint16' }),
  uint32: (): ValueType => ({ kind: 'simple', type: 'uint32' }),
  bitString: (): ValueType => ({ kind: 'simple', type: 'bit-string' }),
  visible: (): ValueType => ({ kind: 'simple', type: 'visible-string' }),
  nul: (): ValueType => ({ kind: 'simple', type: 'null' }),
  octets: (size?: number): ValueType => (size === undefined ? { kind: 'octets' } : { kind: 'octets', size }),
  obis: (): ValueType => ({ kind: 'octets', size: 6, format: 'obis' }),
  dateTime: (): ValueType => ({ kind: 'date-time' }),
  anySimple: (): ValueType => ({ kind: 'any-simple' }),
  any: (): ValueType => ({ kind: 'any' }),
  array: (element: ValueType): ValueType => ({ kind: 'array', element }),
  struct: (fields: Record<string, ValueType>): ValueType => ({
    kind: 'structure',
    fields: Object.entries(fields).map(([name, type]) => ({ name, type })),
  }),
  oneOf: (label: string, ...options: ValueType[]): ValueType => ({ kind: 'one-of', options, label }),
};

/** Method parameter "integer (0)" used by reset, verify, activate, disconnect … */
export const ZERO_PARAM: ValueType = t.int8();

/** Attribute access modes of Association LN v1/v2 object_list (0..6). */
export const AttributeAccess = {
  noAccess: 0,
  read: 1,
  write: 2,
  readWrite: 3,
  authRead: 4,
  authWrite: 5,
  authReadWrite: 6,
} as const;
export type AttributeAccessMode = number;

/** Method access modes (v1+; v0 sends a boolean). */
export const MethodAccess = { noAccess: 0, access: 1, authAccess: 2 } as const;
export type MethodAccessMode = number;

export interface AttributeDescriptor {
  readonly index: number;
  readonly name: string;
  readonly type: ValueType;
  /** Static attributes are configuration; dynamic ones change by themselves. */
  readonly static: boolean;
  /** Access a simulator grants by default (clients treat it as a hint only). */
  readonly access: AttributeAccessMode;
}

export interface MethodDescriptor {
  readonly index: number;
  readonly name: string;
  readonly param: ValueType;
}

export interface ClassDescriptor {
  readonly id: number;
  readonly name: string;
  /** Short token usable on the command line: 'register', 'profile-generic'. */
  readonly key: string;
  readonly version: number;
  readonly attributes: readonly AttributeDescriptor[];
  readonly methods: readonly MethodDescriptor[];
}

/** Attribute 1 of every class. */
export const LOGICAL_NAME: AttributeDescriptor = { index: 1, name: 'logical_name', type: t.obis(), static: true, access: AttributeAccess.read };

/** Shorthand for table rows: [index, name, type, static?, access?]. */
export function attr(index: number, name: string, type: ValueType, isStatic: boolean, access: AttributeAccessMode = AttributeAccess.read): AttributeDescriptor {
  return { index, name, type, static: isStatic, access };
}

export function method(index: number, name: string, param: ValueType): MethodDescriptor {
  return { index, name, param };
}

/** Keep the attributes / methods a lower class version has (used to derive old versions). */
export function restrict(c: ClassDescriptor, version: number, maxAttribute: number, maxMethod: number): ClassDescriptor {
  return {
    ...c,
    version,
    attributes: c.attributes.filter((a) => a.index <= maxAttribute),
    methods: c.methods.filter((m) => m.index <= maxMethod),
  };
}
