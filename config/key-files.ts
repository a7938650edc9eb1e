/**
 * Key files (`meters[].keys: { file: PATH }`): read and checked when the configuration is
 * loaded — dcud start, SIGHUP reload and `dcu config check` — so a missing, unreadable or
 * malformed file is a configuration error naming the meter, the file and the problem, and not
 * a per-meter failure discovered at the first secured association. The daemon reads the file
 * again at each association with the same parser (a file replaced while it runs is used).
 * Key material never appears in a message.
 */
import { readFileSync } from 'node:fs';
import type { ConfigProblem } from './validate';
import type { Config } from './schema';

/** Names a key file holds; both required, nothing else. */
export const KEY_NAMES = ['blockKey', 'authKey'] as const;
export type KeyName = (typeof KEY_NAMES)[number];

/** Security suite 0 (AES-GCM-128), the suite dcu speaks: 16-byte keys. */
export const KEY_BYTES = 16;

/** A key file bigger than this is not one (and is not read whole). */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export type KeyFileResult = { readonly ok: true; readonly keys: Readonly<Record<KeyName, string>> } | { readonly ok: false; readonly problem: string };

const EXPECTED = `{"blockKey": "<${KEY_BYTES * 2} hex digits>", "authKey": "<${KEY_BYTES * 2} hex digits>"}`;

function readProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist; create it or fix the path';
    case 'EACCES':
    case 'EPERM':
      return 'is not readable by this user; give the dcud user read access (and nobody else)';
    case 'EISDIR':
      return 'is a directory, not a key file';
    default:
      return `cannot be read (${code ?? String(e)})`;
  }
}

/** Checks the text of a key file: JSON, exactly the key names, hex of the suite's length. */
export function parseKeyFile(text: string): KeyFileResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch (e) {
    // not the parser's message: it may quote the text, i.e. key material
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    return { ok: false, problem: `is not JSON${at === undefined ? '' : ` (at character ${at})`}; expected ${EXPECTED}` };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { ok: false, problem: `is not a JSON object; expected ${EXPECTED}` };
  const entries = doc as Record<string, unknown>;
  const unknown = Object.keys(entries).filter((k) => !(KEY_NAMES as readonly string[]).includes(k));
  if (unknown.length > 0) return { ok: false, problem: `has unknown key name${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${KEY_NAMES.join(', ')}` };
  const keys: Partial<Record<KeyName, string>> = {};
  for (const name of KEY_NAMES) {
    const v = entries[name];
    if (v === undefined) return { ok: false, problem: `has no "${name}"; expected ${EXPECTED}` };
    if (typeof v !== 'string') return { ok: false, problem: `"${name}" is not a string of hex digits` };
    if (!/^[0-9A-Fa-f]*$/.test(v)) return { ok: false, problem: `"${name}" has characters that are not hex digits` };
    if (v.length !== KEY_BYTES * 2) return { ok: false, problem: `"${name}" has ${v.length} hex digits; security suite 0 (AES-128) keys are ${KEY_BYTES} bytes, ${KEY_BYTES * 2} hex digits` };
    keys[name] = v;
  }
  return { ok: true, keys: keys as Record<KeyName, string> };
}

/** Reads and checks one key file. */
export function readKeyFile(path: string): KeyFileResult {
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_KEY_FILE_BYTES) return { ok: false, problem: `is ${buf.length} bytes, too big for a key file; expected ${EXPECTED}` };
    text = buf.toString('utf8');
  } catch (e) {
    return { ok: false, problem: readProblem(e) };
  }
  return parseKeyFile(text);
}

/** Every meter's key file checked: problems named by key path, meter and file. */
export function keyFileProblems(config: Config): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  config.meters.forEach((m, i) => {
    if (m.keys === undefined || !('file' in m.keys)) return;
    const r = readKeyFile(m.keys.file);
    if (!r.ok) out.push({ path: `meters[${i}].keys.file`, message: `meter ${m.serial}: key file ${m.keys.file} ${r.problem}` });
  });
  return out;
}
