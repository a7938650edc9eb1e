#!/usr/bin/env node
/**
 * dcu-sim: a fleet of simulated DLMS/COSEM meters on socat serial lines and loopback TCP
 * ports, with emulated line speed, latency and faults, for testing dcu without hardware.
 */
import { Command, CommanderError, Option } from 'commander';
import pino from 'pino';
import { DcuError, ErrorCode, isDcuError } from '../../protocol/common/errors';
import type { Logger } from '../../protocol/common/log';
import { parseFleetConfig, readFleetConfigFile, DEFAULT_CREDENTIALS } from '../config';
import { startFleet, type FleetDeps } from '../fleet';
import { METER_MODEL } from '../meter-factory';
import { fleetReport } from '../report';
import { renderFleetText } from './fleet-text';
import type { ClientCredential } from '../types';
import { ensureDirectory } from '../../common/ensure-dir';
import { ExitCode, exitCodeFor, hintFor } from '../../common/exit-codes';

export interface SimFlags {
  meters?: string;
  serialLines?: string;
  tcp?: string;
  framing?: string;
  baud?: string;
  latency?: string;
  jitter?: string;
  capturePeriod?: string;
  profileDays?: string;
  state?: string;
  config?: string;
  password?: string;
  seed?: string;
  speed?: string;
  ptyDir?: string;
  saveInterval?: string;
  loss?: string;
  corrupt?: string;
  replace?: string[];
  push?: string | boolean;
  lastGasp?: boolean;
  json?: boolean;
  verbose?: boolean;
}

export interface SimIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Resolves when the simulator should stop (SIGINT/SIGTERM in main). */
  readonly stopSignal: Promise<unknown>;
  readonly deps?: FleetDeps;
}

export function buildProgram(): Command {
  return new Command('dcu-sim')
    .description('simulated DLMS/COSEM meters on serial lines (socat ptys) and loopback TCP ports')
    .option('--meters <n>', 'number of meters (required here or in --config)')
    .option('--serial-lines <k>', 'serial lines (pty pairs) the meters share; physical addresses 16.. on each')
    .option('--tcp <baseport>', 'also serve meter i on 127.0.0.1:(baseport + i)')
    .addOption(new Option('--framing <kind>', 'framing on TCP (default wrapper)').choices(['wrapper', 'hdlc']))
    .option('--baud <b>', 'emulated serial speed, 8N1 (default 9600; 0 = unpaced)')
    .option('--latency <ms>', 'turnaround before each answer (default 20)')
    .option('--capture-period <s>', 'load profile capture period in seconds, a divisor of a day (default 900; 60 for fast tests)')
    .option('--profile-days <n>', 'days of load profile each meter holds (default 60)')
    .option('--jitter <ms>', 'random extra turnaround 0..ms (default 5)')
    .option('--state <dir>', 'save meter state here (on exit and every --save-interval) and restore it on start')
    .option('--save-interval <ms>', 'periodic state save (default 60000; 0 = only on exit)')
    .option('--config <file>', 'JSON configuration (flags override it); see README "Meter simulator"')
    .option('--password <text>', 'LLS password of the reading client 17 (default 00000000)')
    .option('--seed <n>', 'seed for jitter, faults and meter values (default 1)')
    .option('--speed <x>', 'meter time runs x times faster than real time (default 1)')
    .option('--pty-dir <dir>', 'where to create the pty links line0, line1, … (default: a new temporary directory)')
    .option('--loss <p>', 'probability that a frame is lost, each direction (fault injection)')
    .option('--corrupt <p>', 'probability that an answer frame is corrupted (fault injection)')
    .option('--replace <meter=serial@when...>', 'from WHEN on (seconds after start, or an ISO time on the meter clock), meter INDEX|SERIAL is another meter with serial SERIAL at the same address (repeatable)')
    .option('--push [dest]', 'meters push alarms: UI frames on their serial line, and from TCP meters to dest (tcp://HOST:PORT, udp://HOST:PORT)')
    .option('--last-gasp', 'with --push: also push on power down')
    .option('--json', 'print the endpoints as one JSON document')
    .option('--verbose', 'log link events to stderr')
    .addHelpText(
      'after',
      `
Examples:
  dcu-sim --meters 8 --serial-lines 1
  dcu-sim --meters 1024 --serial-lines 4 --baud 9600 --state ./sim-state
  dcu-sim --meters 2 --tcp 4059 --framing wrapper --json
  dcu-sim --config fleet.json --seed 7 --loss 0.01
  dcu-sim --meters 4 --serial-lines 1 --replace 2=NEW000002@600
  dcu-sim --meters 2 --tcp 5000 --push udp://127.0.0.1:4059 --last-gasp

Runs until SIGINT/SIGTERM, then saves state (with --state) and exits 0.
Exit codes: 0 ok, 2 usage (also a --state or --pty-dir that cannot be created), 3 transport
(socat/ports), 7 state files, 8 configuration.`,
    );
}

/** A flag's number, or its text when it is none (so the error shows what was typed). */
function numberOrText(text: string): number | string {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

/** Flags → raw configuration fields, on top of the file's. */
export function mergeFlags(file: Record<string, unknown>, f: SimFlags): Record<string, unknown> {
  const raw: Record<string, unknown> = { ...file };
  const set = (k: string, v: unknown): void => {
    if (v !== undefined) raw[k] = v;
  };
  set('meters', f.meters);
  set('serialLines', f.serialLines);
  set('tcpBasePort', f.tcp);
  set('framing', f.framing);
  set('baud', f.baud);
  set('latencyMs', f.latency);
  set('jitterMs', f.jitter);
  set('capturePeriodS', f.capturePeriod);
  set('profileDepthDays', f.profileDays);
  set('stateDir', f.state);
  set('saveIntervalMs', f.saveInterval);
  set('seed', f.seed);
  set('speed', f.speed);
  set('ptyDir', f.ptyDir);
  if (f.password !== undefined) {
    const list = Array.isArray(raw['credentials']) ? (raw['credentials'] as ClientCredential[]) : [...DEFAULT_CREDENTIALS];
    const others = list.filter((c) => c.client !== 17);
    raw['credentials'] = [...others, { client: 17, auth: 'low', password: f.password }];
  }
  if (f.push !== undefined || f.lastGasp !== undefined) {
    const push = typeof raw['push'] === 'object' && raw['push'] !== null ? (raw['push'] as Record<string, unknown>) : {};
    raw['push'] = { ...push, ...(typeof f.push === 'string' ? { to: f.push } : {}), ...(f.lastGasp === true ? { lastGasp: true } : {}) };
  }
  if (f.loss !== undefined || f.corrupt !== undefined) {
    const faults = typeof raw['faults'] === 'object' && raw['faults'] !== null ? (raw['faults'] as Record<string, unknown>) : {};
    raw['faults'] = {
      ...faults,
      ...(f.loss === undefined ? {} : { lossProbability: numberOrText(f.loss) }),
      ...(f.corrupt === undefined ? {} : { corruptProbability: numberOrText(f.corrupt) }),
    };
  }
  if (f.replace !== undefined && f.replace.length > 0) {
    const listed = Array.isArray(raw['replacements']) ? (raw['replacements'] as unknown[]) : [];
    raw['replacements'] = [...listed, ...f.replace.map(replacementFlag)];
  }
  return raw;
}

/** `--replace METER=SERIAL@WHEN`: WHEN is seconds after start, or an ISO time on the meter clock. */
function replacementFlag(text: string): Record<string, unknown> {
  const m = /^([^=@]+)=([^=@]+)@(.+)$/.exec(text.trim());
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) {
    throw new DcuError(ErrorCode.Config, `command line: --replace ${JSON.stringify(text)} is not METER=SERIAL@WHEN; e.g. --replace 3=NEW000003@600 (600 s after start) or --replace SIM000003=NEW000003@2026-12-01T10:00:00Z`, {
      context: { field: 'replacements', flag: '--replace' },
    });
  }
  const [, meter, serial, when] = m;
  return { meter: /^\d+$/.test(meter) ? Number(meter) : meter, serial, ...(/^\d+(\.\d+)?$/.test(when) ? { afterS: Number(when) } : { at: when }) };
}

/** A state or pty directory that cannot be made is a bad argument: exit 2 before anything starts. */
function checkDirectory(dir: string | undefined, flag: string): void {
  if (dir === undefined) return;
  try {
    ensureDirectory(dir);
  } catch (e) {
    throw new DcuError(ErrorCode.Usage, `${flag} ${dir}: ${isDcuError(e) ? e.message : String(e)}; give a directory that exists or can be created, and is writable`, { cause: e });
  }
}

export async function runDcuSim(argv: readonly string[], io: SimIo): Promise<number> {
  const program = buildProgram()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    throw e;
  }
  const flags = program.opts<SimFlags>();
  try {
    const file = flags.config === undefined ? {} : readFleetConfigFile(flags.config);
    const source = flags.config === undefined ? 'command line' : `${flags.config} + command line`;
    const config = parseFleetConfig(mergeFlags(file, flags), source);
    checkDirectory(config.stateDir, '--state');
    checkDirectory(config.ptyDir, '--pty-dir');
    const log: Logger = pino({ level: flags.verbose === true ? 'debug' : 'warn', base: { name: 'dcu-sim' } }, pino.destination(2));
    const fleet = await startFleet(config, { log, ...io.deps });
    const report = fleetReport(fleet, METER_MODEL);
    io.out(flags.json === true ? JSON.stringify(report, null, 2) : renderFleetText(report, config.stateDir));
    await io.stopSignal;
    await fleet.stop();
    return ExitCode.ok;
  } catch (e) {
    const error = isDcuError(e) ? e : new DcuError(ErrorCode.Internal, e instanceof Error ? e.message : String(e), { cause: e });
    const hint = hintFor(error);
    io.err(`dcu-sim: ${error.message}${hint === undefined ? '' : `\n  hint: ${hint}`}`);
    return exitCodeFor(error);
  }
}

function main(): void {
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    // The terminal closed: socat, in a process group of its own, is stopped by us.
    process.once('SIGHUP', () => resolve('SIGHUP'));
  });
  runDcuSim(process.argv.slice(2), {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    stopSignal,
  }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`dcu-sim: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(ExitCode.internal);
    },
  );
}

if (require.main === module) main();
