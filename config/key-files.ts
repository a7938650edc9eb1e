/**
 * Key files (`meters[].keys: { file: PATH }` in the configuration, `{ name: NAME }` for
 * `<keysDir>/NAME.json`): read and checked when the configuration is loaded — dcud start,
 * SIGHUP reload and `dcu config check` — and when the HES or the local API registers a meter
 * by key name, so a missing, unreadable or malformed file is a configuration error naming the
 * meter, the file and the problem, and not a per-meter failure discovered at the first secured
 * association. The daemon reads the file again at each association with the same parser (a
 * file replaced while it runs is used).
 *
 * A key file is opened without blocking and must be a regular file below a size limit: a FIFO
 * (whose open or read would wait for a writer for ever), a device (`/dev/zero` reads without
 * end) or a directory is refused with its path named, before any byte is read. Remote
 * commands never name files on the box at all (config/validate.ts, `remoteKeysProblems`).
 * Key material never appears in a message.
 */
import { join } from 'node:path';
import { readSmallRegularFile } from './regular-file';
import type { ConfigProblem } from './validate';
import type { Config, MeterConfig } from './schema';

export { KEY_NAME_PATTERN } from './key-names';

/** Names a key file holds; both required, nothing else. */
export const KEY_NAMES = ['blockKey', 'authKey'] as const;
export type KeyName = (typeof KEY_NAMES)[number];

/** Security suite 0 (AES-GCM-128), the suite dcu speaks: 16-byte keys. */
export const KEY_BYTES = 16;

/** A key file bigger than this is not one (and is not read whole). */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

export type KeyFileResult = { readonly ok: true; readonly keys: Readonly<Record<KeyName, string>> } | { readonly ok: false; readonly problem: string };

const EXPECTED = `{"blockKey": "<${KEY_BYTES * 2} hex digits>", "authKey": "<${KEY_BYTES * 2} hex digits>"}`;

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
  const r = readSmallRegularFile(path, MAX_KEY_FILE_BYTES, 'key file');
  if (!r.ok) return r;
  return parseKeyFile(r.bytes.toString('utf8'));
}

/** The file of a named key: `<keysDir>/<name>.json`. */
export function keyNamePath(keysDir: string, name: string): string {
  return join(keysDir, `${name}.json`);
}

/** The file a meter's keys come from, if they come from a file; undefined for inline keys. */
export function keySourceFile(keys: MeterConfig['keys'], keysDir: string): string | undefined {
  if (keys === undefined) return undefined;
  if ('file' in keys) return keys.file;
  if ('name' in keys) return keyNamePath(keysDir, keys.name);
  return undefined;
}

/** Every meter's key file checked: problems named by key path, meter and file. */
export function keyFileProblems(config: Config): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  config.meters.forEach((m, i) => {
    const problem = meterKeyFileProblem(m, config.keysDir, `meters[${i}]`);
    if (problem !== undefined) out.push(problem);
  });
  return out;
}

/** One meter's key file (named or by path) checked; undefined when fine or inline. */
export function meterKeyFileProblem(m: Pick<MeterConfig, 'serial' | 'keys'>, keysDir: string, at: string): ConfigProblem | undefined {
  const file = keySourceFile(m.keys, keysDir);
  if (file === undefined || m.keys === undefined) return undefined;
  const r = readKeyFile(file);
  if (r.ok) return undefined;
  const path = 'file' in m.keys ? `${at}.keys.file` : `${at}.keys.name`;
  return { path, message: `meter ${m.serial}: key file ${file} ${r.problem}` };
}
