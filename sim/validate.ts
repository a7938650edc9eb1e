/**
 * Tiny field checker for the simulator's configuration: every failure is a
 * DcuError(Config) naming the field (and the flag, when it came from one) and what was expected.
 */
import { DcuError, ErrorCode } from '../protocol/common/errors';

export type Obj = Readonly<Record<string, unknown>>;

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'nothing';
  try {
    const json = JSON.stringify(v) as string | undefined;
    return json ?? typeof v;
  } catch {
    return typeof v;
  }
}

export function configError(field: string, expected: string, got: unknown, source: string, flag?: string): DcuError {
  const where = flag === undefined ? field : `${field} (${flag})`;
  return new DcuError(ErrorCode.Config, `${source}: ${where} must be ${expected}, got ${describeValue(got)}`, {
    context: { field, source, ...(flag === undefined ? {} : { flag }) },
  });
}

export class Checker {
  constructor(
    readonly source: string,
    private readonly flags: Readonly<Record<string, string>> = {},
  ) {}

  fail(field: string, expected: string, got: unknown): never {
    throw configError(field === '' ? 'the configuration' : field, expected, got, this.source, this.flags[field]);
  }

  object(field: string, v: unknown, allowed?: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, 'an object', v);
    const o = v as Obj;
    if (allowed !== undefined) {
      for (const k of Object.keys(o)) {
        if (!allowed.includes(k)) {
          const name = field === '' ? k : `${field}.${k}`;
          throw new DcuError(ErrorCode.Config, `${this.source}: unknown field ${name} (known: ${allowed.join(', ')})`, {
            context: { field: name, source: this.source },
          });
        }
      }
    }
    return o;
  }

  /** A number (strings of digits are accepted: they come from flags) in [min, max]. */
  number(field: string, v: unknown, min: number, max: number, integer = true): number {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    const kind = integer ? 'an integer' : 'a number';
    if (typeof n !== 'number' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      this.fail(field, `${kind} from ${min} to ${max}`, v);
    }
    return n;
  }

  optionalNumber(field: string, v: unknown, min: number, max: number, integer = true): number | undefined {
    return v === undefined ? undefined : this.number(field, v, min, max, integer);
  }

  string(field: string, v: unknown, pattern?: RegExp, expected = 'a string'): string {
    if (typeof v !== 'string' || (pattern !== undefined && !pattern.test(v))) this.fail(field, expected, v);
    return v;
  }

  boolean(field: string, v: unknown): boolean {
    if (typeof v !== 'boolean') this.fail(field, 'true or false', v);
    return v;
  }

  oneOf<T extends string>(field: string, v: unknown, choices: readonly T[]): T {
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) this.fail(field, `one of ${choices.join(', ')}`, v);
    return v as T;
  }

  array(field: string, v: unknown): readonly unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'an array', v);
    return v as readonly unknown[];
  }
}
