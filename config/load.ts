/**
 * Loading: a YAML or JSON file (YAML is a superset; `.json` files are parsed as JSON for
 * exact error positions), then `DCU_<PATH>` environment overrides, then validation with
 * defaults. Any problem is one DcuError(Config) naming the file, the key paths, the bad
 * values and what is allowed — nothing is started on a bad configuration. A file's meters'
 * key files are read and checked too (config/key-files.ts).
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { fileProblem } from './file-text';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { applyEnvOverrides, type EnvOverride } from './env';
import { keyFileProblems } from './key-files';
import type { Config } from './schema';
import { configError, validateConfig } from './validate';

export interface LoadedConfig {
  readonly config: Config;
  readonly source: string;
  readonly overrides: readonly EnvOverride[];
}

/** Parses configuration text (YAML or JSON) into a plain document. */
export function parseConfigText(text: string, source: string): unknown {
  if (source.endsWith('.json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new DcuError(ErrorCode.Config, `${source}: not valid JSON: ${(e as Error).message}`, { cause: e, context: { source } });
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw new DcuError(ErrorCode.Config, `${source}: not valid YAML: ${first?.message ?? 'parse error'}`, { context: { source } });
  }
  return doc.toJS() as unknown;
}

/** Reads, overrides from the environment and validates a configuration file. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DcuError(ErrorCode.Config, `${path}: the configuration file ${fileProblem(e)}`, { cause: e, context: { source: path } });
  }
  const loaded = configFromText(text, path, env);
  // Key files are part of the configuration: checked here, so dcud start, SIGHUP and `dcu config check` agree.
  const keyProblems = keyFileProblems(loaded.config);
  if (keyProblems.length > 0) throw configError(path, keyProblems);
  return loaded;
}

export function configFromText(text: string, source: string, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  const doc = parseConfigText(text, source) ?? {};
  const overrides = typeof doc === 'object' && !Array.isArray(doc) ? applyEnvOverrides(doc as Record<string, unknown>, env) : [];
  const withEnv = overrides.length === 0 ? source : `${source} (with ${overrides.map((o) => o.variable).join(', ')})`;
  return { config: validateConfig(doc, withEnv), source, overrides };
}
