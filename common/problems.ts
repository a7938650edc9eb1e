/**
 * Schema problems as people read them: ajv errors turned into key paths (`meters[1].auth`)
 * with the bad value and what is allowed. Shared by the concentrator's configuration
 * (config/validate.ts) and the simulator's (sim/schema.ts), so both speak alike.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

export interface ConfigProblem {
  /** Key path as people write it: `meters[1].auth`. */
  readonly path: string;
  readonly message: string;
}

export interface SchemaCompileOptions {
  /** Accept numbers and booleans written as text (command-line flags). */
  readonly coerceTypes?: boolean;
}

/** An ajv validator that fills defaults in place and reports every error. */
export function compileSchema<T>(schema: object, options: SchemaCompileOptions = {}): ValidateFunction<T> {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true, coerceTypes: options.coerceTypes === true });
  return ajv.compile<T>(schema);
}

/** `/meters/1/auth` → `meters[1].auth`. */
export function keyPath(pointer: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '') || '(top level)';
}

/** Keys whose values never appear in a message. */
const SECRET_KEY = /(^|\/)(password|secret|blockKey|authKey|masterKey)$/;

export function shown(value: unknown, pointer = ''): string {
  if (SECRET_KEY.test(pointer)) return '(value not shown)';
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function valueAt(doc: unknown, pointer: string): unknown {
  let at: unknown = doc;
  for (const p of pointer.split('/').slice(1)) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[p.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return at;
}

const NUMBER_KEYWORDS = new Set(['type', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']);

/** "an integer from 1 to 127", for a numeric schema. */
function numberRange(schema: { type?: unknown; minimum?: number; maximum?: number }): string {
  const kind = schema.type === 'integer' ? 'an integer' : 'a number';
  if (schema.minimum !== undefined && schema.maximum !== undefined) return `${kind} from ${schema.minimum} to ${schema.maximum}`;
  if (schema.minimum !== undefined) return `${kind} of at least ${schema.minimum}`;
  if (schema.maximum !== undefined) return `${kind} of at most ${schema.maximum}`;
  return kind;
}

function describe(e: ErrorObject, doc: unknown): ConfigProblem {
  const path = keyPath(e.instancePath);
  const value = shown(valueAt(doc, e.instancePath), e.instancePath);
  const schema = e.parentSchema as { description?: string; type?: unknown; minimum?: number; maximum?: number } | undefined;
  const what = schema?.description === undefined ? '' : ` — ${schema.description}`;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      return { path: keyPath(`${e.instancePath}/${key}`), message: `unknown key "${key}"; allowed here: ${allowed.join(', ')}` };
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      return { path: keyPath(`${e.instancePath}/${key}`), message: 'is required' };
    }
    case 'enum':
    case 'const': {
      const allowed = (e.params as { allowedValues?: unknown[]; allowedValue?: unknown }).allowedValues ?? [(e.params as { allowedValue?: unknown }).allowedValue];
      return { path, message: `${value} is not allowed; allowed: ${allowed.map((a) => String(a)).join(', ')}${what}` };
    }
    case 'pattern':
      return { path, message: `${value} has the wrong form${what}` };
    default:
      if (schema !== undefined && (schema.type === 'integer' || schema.type === 'number') && NUMBER_KEYWORDS.has(e.keyword)) {
        return { path, message: `${value} is not allowed; allowed: ${numberRange(schema)}${what}` };
      }
      return { path, message: `${value}: ${e.message ?? 'invalid'}${what}` };
  }
}

/** Union errors come as one per branch: keep the most useful, once per path. */
export function schemaProblems(errors: readonly ErrorObject[], doc: unknown): ConfigProblem[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const out: ConfigProblem[] = [];
  for (const [pointer, list] of byPath) {
    const consts = list.filter((e) => e.keyword === 'const');
    if (consts.length > 1 && list.some((e) => e.keyword === 'anyOf')) {
      // a union of literals: one message listing every allowed value
      const allowed = consts.map((e) => String((e.params as { allowedValue: unknown }).allowedValue));
      const desc = (list.find((e) => e.keyword === 'anyOf')?.parentSchema as { description?: string } | undefined)?.description;
      out.push({ path: keyPath(pointer), message: `${shown(valueAt(doc, pointer), pointer)} is not allowed; allowed: ${allowed.join(', ')}${desc === undefined ? '' : ` — ${desc}`}` });
      continue;
    }
    const specific = list.filter((e) => e.keyword !== 'anyOf');
    for (const e of specific.length > 0 ? specific : list) out.push(describe(e, doc));
  }
  // the same problem reported by several union branches once
  return out.filter((p, i) => out.findIndex((q) => q.path === p.path && q.message === p.message) === i);
}
