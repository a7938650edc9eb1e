/**
 * Hostile JSON for the targets that take JSON (HES command payloads, API bodies): a valid
 * document changed in its structure (a value replaced by a hostile one: huge or negative
 * numbers, long or odd strings, `__proto__` keys, wrong types, deep nesting), or as bytes
 * (the byte mutations of Rng), or plain random bytes.
 */
import type { Rng } from './rng';

export interface JsonMutationOptions {
  /**
   * Nest a value a few thousand levels deep now and then (default true). The jest run turns
   * it off until the JSON depth limit is in: today such a payload ends in 'Maximum call
   * stack size exceeded', a finding `npm run fuzz` reports.
   */
  readonly deepJson?: boolean;
}

/** The probability of a deep-nesting input (drawn for every input, so indices line up with deepJson off). */
const DEEP_CHANCE = 0.02;

const ODD_STRINGS = ['', ' ', '\u0000', '\ud800', '../../etc/passwd', '/dev/null', 'A'.repeat(300), '%s%n', '${x}', '__proto__', 'constructor', '2026-13-45T99:99Z', '1/16', '127.0.0.1:0', '-1', 'NaN', 'true', '*'];
const ODD_NUMBERS = [0, -1, 1, 0.5, -0.0, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 65535, 65536, 255, 256];

function oddValue(rng: Rng, depth: number): unknown {
  switch (rng.int(9)) {
    case 0:
      return rng.pick(ODD_NUMBERS);
    case 1:
      return rng.pick(ODD_STRINGS);
    case 2:
      return rng.chance(0.5) ? null : rng.chance(0.5);
    case 3:
      return depth > 3 ? [] : Array.from({ length: rng.int(4) }, () => oddValue(rng, depth + 1));
    case 4:
      return depth > 3 ? {} : Object.fromEntries(Array.from({ length: rng.int(3) }, () => [rng.pick(ODD_STRINGS), oddValue(rng, depth + 1)]));
    case 5:
      return 'x'.repeat(rng.pick([1000, 70_000, 300_000]));
    case 6:
      return Array.from({ length: rng.pick([100, 5000]) }, (_, i) => (rng.chance(0.5) ? i : `M${i}`));
    case 7:
      return { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } };
    default:
      return String.fromCharCode(...Array.from({ length: 1 + rng.int(16) }, () => rng.int(0x10000)));
  }
}

/** Replaces (or adds, or deletes) one node of `doc`. */
function mutateTree(doc: unknown, rng: Rng, depth = 0): unknown {
  if (doc === null || typeof doc !== 'object' || depth > 6 || rng.chance(0.15)) return oddValue(rng, depth);
  if (Array.isArray(doc)) {
    const copy = [...(doc as unknown[])];
    if (copy.length === 0 || rng.chance(0.2)) copy.push(oddValue(rng, depth));
    else {
      const i = rng.int(copy.length);
      if (rng.chance(0.1)) copy.splice(i, 1);
      else copy[i] = mutateTree(copy[i], rng, depth + 1);
    }
    return copy;
  }
  const entries = Object.entries(doc as Record<string, unknown>);
  const keys = entries.map(([k]) => k);
  const key = keys.length === 0 || rng.chance(0.15) ? rng.pick([...ODD_STRINGS, ...keys]) : rng.pick(keys);
  if (rng.chance(0.1)) return Object.fromEntries(entries.filter(([k]) => k !== key));
  // fromEntries makes own properties ("__proto__" included, as JSON.parse would).
  return Object.fromEntries([...entries.filter(([k]) => k !== key), [key, mutateTree(entries.find(([k]) => k === key)?.[1], rng, depth + 1)]]);
}

/** `inner` wrapped `depth` times in arrays or one-key objects, as JSON text. */
export function deeplyNested(inner: string, depth: number, objects: boolean): string {
  return objects ? '{"a":'.repeat(depth) + inner + '}'.repeat(depth) : '['.repeat(depth) + inner + ']'.repeat(depth);
}

const enc = new TextEncoder();

/** One hostile JSON text made from `seed` (a valid document). */
export function hostileJson(seed: unknown, rng: Rng, o: JsonMutationOptions = {}): Uint8Array {
  const deep = rng.chance(DEEP_CHANCE);
  if (deep && o.deepJson !== false) {
    // The nesting replaces a random value of the document (or is the whole document).
    const nested = deeplyNested('1', 2000 + rng.int(18_000), rng.chance(0.5));
    return enc.encode(rng.chance(0.8) ? insertAtValue(JSON.stringify(seed), nested, rng) : nested);
  }
  const r = rng.next();
  if (r < 0.55) return enc.encode(JSON.stringify(mutateTree(seed, rng) ?? null));
  const text = enc.encode(JSON.stringify(seed));
  if (r < 0.95) return rng.mutate(text);
  return rng.bytes(rng.int(256));
}

/** Replaces the value after a random `:` of an object text by `value`. */
function insertAtValue(text: string, value: string, rng: Rng): string {
  const colons: number[] = [];
  for (let i = 0; i < text.length; i++) if (text[i] === ':' && text[i - 1] === '"') colons.push(i);
  if (colons.length === 0) return value;
  const at = rng.pick(colons) + 1;
  // The value ends at the next , or } on the same nesting level (good enough: we only need valid JSON most of the time).
  let depth = 0;
  let end = at;
  let inString = false;
  for (; end < text.length; end++) {
    const c = text[end];
    if (inString) {
      if (c === '\\') end++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      if (depth === 0) break;
      depth--;
    } else if (c === ',' && depth === 0) break;
  }
  return text.slice(0, at) + value + text.slice(end);
}
