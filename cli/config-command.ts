/**
 * `dcu config check FILE` and `dcu config example`: the same loading and validation as
 * dcud at start, so a config written by a person or another tool can be checked before a
 * restart. A bad file exits 2 with every problem named (key path, bad value, what is allowed);
 * the meters' key files are read and checked as dcud does at start.
 */
import type { Command } from 'commander';
import { EXAMPLE_CONFIG } from '../config/example';
import { keySourceFile } from '../config/key-files';
import { loadConfig } from '../config/load';
import { isDcuError } from '../protocol/common/errors';
import { ExitCode } from '../common/exit-codes';

export interface ConfigIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export function checkConfigFile(file: string, json: boolean, io: ConfigIo): number {
  try {
    const { config, overrides } = loadConfig(file, io.env);
    const keyFiles = config.meters.filter((m) => keySourceFile(m.keys, config.keysDir) !== undefined).length;
    const summary = { ok: true, file, id: config.id, lines: config.lines.length, meters: config.meters.length, keyFiles, overrides: overrides.map((o) => `${o.variable} → ${o.path}`) };
    io.out(
      json
        ? JSON.stringify(summary)
        : `${file}: ok — concentrator ${config.id}, ${config.lines.length} line(s), ${config.meters.length} meter(s)${keyFiles > 0 ? `, ${keyFiles} key file(s) checked` : ''}` +
            (overrides.length > 0 ? `\n  from the environment: ${summary.overrides.join(', ')}` : ''),
    );
    return ExitCode.ok;
  } catch (e) {
    if (!isDcuError(e)) throw e;
    io.err(json ? JSON.stringify({ ok: false, file, error: { code: e.code, layer: e.layer, message: e.message } }) : e.message);
    return ExitCode.usage;
  }
}

export function registerConfig(program: Command, onExit: (code: number) => void, io: ConfigIo): Command {
  const config = program.command('config').description('check the concentrator configuration, or print a commented example');
  config
    .command('check <file>')
    .description('validate a configuration file (YAML or JSON) with DCU_<PATH> environment overrides, and the meters\' key files; exit 2 when invalid')
    .option('--json', 'print one JSON document')
    .action((file: string, opts: { json?: boolean }) => onExit(checkConfigFile(file, opts.json === true, io)));
  config
    .command('example')
    .description('print a commented example configuration that passes the check')
    .action(() => {
      io.out(EXAMPLE_CONFIG.trimEnd());
      onExit(ExitCode.ok);
    });
  return config;
}
