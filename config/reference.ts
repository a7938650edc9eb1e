/**
 * The configuration reference (docs/config.md) generated from the schema itself, so the
 * documentation cannot drift from what `dcu config check` accepts. `npm run docs:config`
 * rewrites the file; a test fails when it is stale.
 */
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from './schema';

interface Node {
  readonly type?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly pattern?: string;
  readonly const?: string | number | boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly properties?: Readonly<Record<string, TSchema>>;
  readonly required?: readonly string[];
  readonly items?: TSchema;
  readonly anyOf?: readonly TSchema[];
}

function typeText(n: Node): string {
  if (n.anyOf !== undefined) {
    const consts = n.anyOf.map((b) => (b as Node).const);
    if (consts.every((c) => c !== undefined)) return consts.map((c) => `\`${String(c)}\``).join(' \\| ');
    return n.anyOf.map((b) => typeText(b as Node)).join(' or ');
  }
  if (n.const !== undefined) return `\`${String(n.const)}\``;
  if (n.type === 'array') return `list of ${typeText(n.items as Node)}`;
  if (n.type === 'object') return 'mapping';
  if (n.type === 'integer' && (n.minimum !== undefined || n.maximum !== undefined)) return `integer ${n.minimum ?? ''}–${n.maximum ?? ''}`;
  return n.type ?? 'any';
}

function rows(n: Node, prefix: string, out: string[]): void {
  const required = new Set(n.required ?? []);
  for (const [key, child] of Object.entries(n.properties ?? {})) {
    const c = child as Node;
    const path = `${prefix}${key}`;
    const def = c.default === undefined || (typeof c.default === 'object' && c.default !== null) ? '' : `\`${JSON.stringify(c.default)}\``;
    const need = required.has(key) && c.default === undefined ? 'yes' : '';
    const desc = (c.description ?? '').replace(/\|/g, '\\|');
    out.push(`| \`${path}\` | ${typeText(c)} | ${need} | ${def} | ${desc} |`);
    const nested = c.anyOf?.filter((b) => (b as Node).properties !== undefined) ?? [];
    if (c.properties !== undefined) rows(c, `${path}.`, out);
    for (const b of nested) rows(b, `${path}.`, out);
    const items = c.items as Node | undefined;
    if (items?.properties !== undefined) rows(items, `${path}[].`, out);
  }
}

export function configReference(): string {
  const out = [
    '# Configuration reference',
    '',
    '<!-- generated from config/schema.ts by `npm run docs:config`; do not edit by hand -->',
    '',
    '`dcud --config FILE` reads YAML or JSON; `dcu config check FILE` validates it the same way and',
    '`dcu config example` prints a commented example. Unknown keys are errors. Any key can be',
    'overridden from the environment: `DCU_<PATH>` with path segments separated by `_`',
    '(`DCU_MQTT_URL`, `DCU_STATE_DIR`, `DCU_STORAGE_MAX_BYTES`, `DCU_LINES_0_SERIAL_PATH`).',
    'Durations are written `90s`, `15m`, `2h`, `7d`, `1h30m`; sizes `2GB`, `512MiB` or a number of bytes.',
    '',
    '| key | type | required | default | meaning |',
    '|---|---|---|---|---|',
  ];
  rows(ConfigSchema, '', out);
  return `${out.join('\n')}\n`;
}

if (require.main === module) {
  process.stdout.write(configReference());
}
