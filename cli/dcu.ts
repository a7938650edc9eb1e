#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerApiCommands } from './api-commands';
import { registerConfig } from './config-command';
import { registerDemo } from './demo-command';
import { registerDiscovered } from './discovered-command';
import { registerHes } from './hes-command';
import { registerFirmware } from './firmware-command';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { ExitCode } from '../common/exit-codes';
import { registerProbe } from './probe/command';
import { registerJobs } from './jobs-command';
import { registerKeys } from './keys-command';
import { registerLogs } from './logs-command';
import { registerRead } from './read-command';
import { registerStoreCommands } from './store-commands';
import { runProbe } from './probe/run';

/** `dcu` — the technician's command line. */
export function buildProgram(onExit: (code: number) => void): Command {
  const program = new Command('dcu')
    .description('dcu — data concentrator for DLMS/COSEM smart meters (technician CLI)')
    .version(process.env.npm_package_version ?? '0.1.0')
    .option('--host <host[:port]>', "the concentrator's local API over HTTPS (default $DCU_HOST; without it: this box)")
    .option('--token-file <file>', 'API token (default $DCU_TOKEN_FILE, or the token in $DCU_TOKEN)')
    .option('--fingerprint <sha256>', 'pin the API certificate: the fingerprint `dcu status` shows on the box ($DCU_FINGERPRINT)')
    .option('--trust-file <file>', 'a file holding that fingerprint')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerProbe(program, async (flags, request) => {
    onExit(await runProbe(flags, request));
  });
  const io = {
    out: (text: string) => process.stdout.write(`${text}\n`),
    err: (text: string) => process.stderr.write(`${text}\n`),
    env: process.env,
  };
  registerConfig(program, onExit, io);
  registerStoreCommands(program, onExit, io);
  registerDiscovered(program, onExit, io);
  registerRead(program, onExit, io);
  registerJobs(program, onExit, io);
  registerDemo(program, onExit, io);
  registerHes(program, onExit, io);
  registerApiCommands(program, onExit, io);
  registerFirmware(program, onExit, io);
  registerLogs(program, onExit, io);
  registerKeys(program, onExit, io);
  return program;
}

/**
 * Exit code of a commander stop: help asked for (or --version) is 0; help shown because
 * something was missing (`dcu probe` without a command) and every parse error are usage (2).
 */
export function commanderExitCode(e: CommanderError): number {
  const asked = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || (e.code === 'commander.help' && e.exitCode === 0);
  return asked ? ExitCode.ok : ExitCode.usage;
}

/** With --json, a usage error is the documented `{"error": …}` document on stdout as well. */
export function commanderErrorJson(e: CommanderError): string {
  const message = e.code === 'commander.help' ? 'a command is missing (objects, get, set, action, clock or profile)' : e.message.replace(/^error: /, '');
  const error = new DcuError(ErrorCode.Usage, message);
  return JSON.stringify({ error: { code: error.code, layer: error.layer, message, hint: 'run with --help for usage' } }, null, 2);
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
      exitCode = commanderExitCode(e);
      if (exitCode !== ExitCode.ok && process.argv.includes('--json')) process.stdout.write(`${commanderErrorJson(e)}\n`);
    } else {
      process.stderr.write(`dcu: internal error: ${String(e)}\n`);
      exitCode = ExitCode.internal;
    }
  }
  // The command is over: leave now, even if a link timer of an association that failed while
  // being set up is still armed (stdout/stderr are synchronous on pipes and TTYs on Linux).
  process.exit(exitCode);
}

if (require.main === module) void main();
