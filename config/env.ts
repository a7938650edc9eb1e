/**
 * Environment overrides for deployment: `DCU_<PATH>` sets the key at PATH, path segments
 * separated by `_`, matched case-insensitively against the schema's keys (camelCase keys
 * written without separators or with underscores between their words):
 * `DCU_MQTT_URL`, `DCU_STATE_DIR` → stateDir, `DCU_STORAGE_MAX_BYTES` → storage.maxBytes,
 * `DCU_LINES_0_SERIAL_PATH` → lines[0].serial.path. Numbers, booleans and JSON values are
 * parsed where the schema expects them. Variables that name no key (DCU_HOST, DCU_TOKEN…
 * belong to the CLI) are left alone.
 */
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from './schema';

export const ENV_PREFIX = 'DCU_';

export interface EnvOverride {
  readonly variable: string;
  /** Key path written as in the file: `storage.maxBytes`, `lines[0].serial.path`. */
  readonly path: string;
}

interface SchemaNode {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, TSchema>>;
  readonly items?: TSchema;
  readonly anyOf?: readonly TSchema[];
}

function branches(s: SchemaNode): SchemaNode[] {
  return s.anyOf === undefined ? [s] : s.anyOf.flatMap((b) => branches(b as SchemaNode));
}

interface Step {
  readonly key: string | number;
  readonly schema: SchemaNode;
}

/** The path of key steps that `tokens` spell from `schema`, or undefined. */
function resolve(schema: SchemaNode, tokens: readonly string[]): Step[] | undefined {
  if (tokens.length === 0) return [];
  for (const node of branches(schema)) {
    if (node.items !== undefined && /^\d+$/.test(tokens[0] ?? '')) {
      const rest = resolve(node.items as SchemaNode, tokens.slice(1));
      if (rest !== undefined) return [{ key: Number(tokens[0]), schema: node.items as SchemaNode }, ...rest];
    }
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const flat = key.toLowerCase();
      for (let n = 1; n <= tokens.length; n++) {
        if (tokens.slice(0, n).join('').toLowerCase() !== flat) continue;
        const rest = resolve(child as SchemaNode, tokens.slice(n));
        if (rest !== undefined) return [{ key, schema: child as SchemaNode }, ...rest];
      }
    }
  }
  return undefined;
}

function typed(text: string, schema: SchemaNode): unknown {
  const types = new Set(branches(schema).map((b) => b.type));
  if ((types.has('integer') || types.has('number')) && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (types.has('boolean') && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if ((types.has('object') || types.has('array')) && /^[[{]/.test(text.trim())) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text; // the schema check names the key and the bad value
    }
  }
  return text;
}

function pathText(steps: readonly Step[]): string {
  return steps.reduce((acc, s) => (typeof s.key === 'number' ? `${acc}[${s.key}]` : acc === '' ? s.key : `${acc}.${s.key}`), '');
}

/** Applies every DCU_<PATH> variable that names a key; returns what was applied. */
export function applyEnvOverrides(doc: Record<string, unknown>, env: NodeJS.ProcessEnv): EnvOverride[] {
  const applied: EnvOverride[] = [];
  for (const [variable, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!variable.startsWith(ENV_PREFIX) || value === undefined) continue;
    const steps = resolve(ConfigSchema, variable.slice(ENV_PREFIX.length).split('_').filter((t) => t !== ''));
    if (steps === undefined || steps.length === 0) continue;
    let at: Record<string | number, unknown> = doc;
    steps.forEach((step, i) => {
      if (i === steps.length - 1) {
        at[step.key] = typed(value, step.schema);
        return;
      }
      const next = at[step.key];
      if (next === null || typeof next !== 'object') at[step.key] = typeof steps[i + 1]?.key === 'number' ? [] : {};
      at = at[step.key] as Record<string | number, unknown>;
    });
    applied.push({ variable, path: pathText(steps) });
  }
  return applied;
}
