#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerConfig } from './config-command';
import { ExitCode } from './exit-codes';
import { registerProbe } from './probe/command';
import { runProbe } from './probe/run';

/** `dcu` — the technician's command line. */
export function buildProgram(onExit: (code: number) => void): Command {
  const program = new Command('dcu')
    .description('dcu — data concentrator for DLMS/COSEM smart meters (technician CLI)')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerProbe(program, async (flags, request) => {
    onExit(await runProbe(flags, request));
  });
  registerConfig(program, onExit, {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
  });
  return program;
}

async function main(): Promise<void> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      const ok = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
      exitCode = ok ? ExitCode.ok : ExitCode.usage;
    } else {
      process.stderr.write(`dcu: internal error: ${String(e)}\n`);
      exitCode = ExitCode.internal;
    }
  }
  process.exitCode = exitCode;
}

if (require.main === module) void main();
