import { dirname } from 'node:path';
import { DlmsClient } from '../../protocol/client/client';
import type { ClientSecurity } from '../../protocol/client/options';
import { toHex } from '../../protocol/common/hex';
import { redactSecrets } from '../../protocol/security';
import { FileCounterStore } from '../../storage/counter-file';
import { ensureDirectory } from '../../common/ensure-dir';
import { DcuError, isDcuError } from '../../protocol/common/errors';
import { systemClock } from '../../protocol/common/clock';
import { nullLogger } from '../../protocol/common/log';
import { describeEndpoint, openEndpoint } from '../../protocol/transport/endpoint';
import { createLogger } from '../../daemon/log';
import { ExitCode, exitCodeFor, hintFor, type HintContext } from '../../common/exit-codes';
import type { ProbeRequest } from './command';
import { execute, prepare } from './commands';
import { interruptedText, prepareFlash, runFlash, type FlashWhere } from './flash';
import { withMetadataCache } from './meta-cache';
import { parseTarget, type ProbeFlags, type ProbeSecurity, type ProbeTarget } from './target';

/**
 * Counter key id: one counter sequence per meter, client and client system title (never the
 * key itself). Change --counter-file or the system title when the keys change.
 */
export function counterKeyId(target: ProbeTarget, sec: ProbeSecurity): string {
  const s = target.serverAddress;
  return `${describeEndpoint(target.endpoint)}|server ${s.logical}${s.physical === undefined ? '' : `/${s.physical}`}|client ${target.clientAddress}|${toHex(sec.systemTitle)}`;
}

async function clientSecurity(target: ProbeTarget, sec: ProbeSecurity): Promise<ClientSecurity> {
  ensureDirectory(dirname(sec.counterFile), 0o700);
  const counterStore = new FileCounterStore({ path: sec.counterFile, chunk: 10 });
  const keyId = counterKeyId(target, sec);
  if (sec.invocationCounter !== undefined) await counterStore.advanceTo(keyId, sec.invocationCounter);
  return {
    policy: sec.policy,
    systemTitle: sec.systemTitle,
    blockKey: sec.blockKey,
    authKey: sec.authKey,
    dedicatedKey: sec.dedicatedKey,
    counterStore,
    counterKeyId: keyId,
  };
}

/** Whatever goes to the terminal: key bytes and the HLS secret, should any slip into a message, are masked. */
function mask(text: string, target: ProbeTarget | undefined): string {
  const sec = target?.security;
  const auth = target?.authentication;
  const secrets = [...(sec === undefined ? [] : [sec.blockKey, sec.authKey]), ...(auth?.mechanism === 'high-sha256' ? [auth.secret] : [])];
  return secrets.length === 0 ? text : redactSecrets(text, secrets);
}

export interface ProbeIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Raw progress output of `flash` (default: stdout, a redrawn bar when it is a terminal). */
  progress?: (text: string) => void;
  isTty?: boolean;
}

/** What the command line chose, for hints (from the parsed target when parsing got that far). */
function hintContext(flags: ProbeFlags, target: ProbeTarget | undefined): HintContext {
  const endpoint = target?.endpoint.kind ?? (flags.serial !== undefined ? 'serial' : flags.tcp !== undefined ? 'tcp' : flags.udp !== undefined ? 'udp' : undefined);
  const framing = target?.framing ?? (flags.framing === 'hdlc' || flags.framing === 'wrapper' ? flags.framing : endpoint === 'serial' ? 'hdlc' : 'wrapper');
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    framing,
    ...(target === undefined ? {} : { client: target.clientAddress }),
    auth: target?.authentication.mechanism ?? flags.auth ?? 'none',
  };
}

/** A DcuError for people (message + hint on stderr) and, with --json, as the documented `{"error": …}` on stdout. */
export function reportError(e: DcuError, flags: Pick<ProbeFlags, 'json'>, io: ProbeIo, ctx: HintContext, message = e.message): void {
  const hint = hintFor(e, ctx);
  if (flags.json) io.out(JSON.stringify({ error: { code: e.code, layer: e.layer, message, ...(hint ? { hint } : {}) } }, null, 2));
  io.err(`dcu probe: ${message}${hint ? `\n  hint: ${hint}` : ''}`);
}

const defaultIo: ProbeIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

/** Runs one `dcu probe` command; returns the exit code (never throws). */
export async function runProbe(flags: ProbeFlags, request: ProbeRequest, io: ProbeIo = defaultIo): Promise<number> {
  let client: DlmsClient | undefined;
  let target: ProbeTarget | undefined;
  // Ctrl-C during a flash says where it stopped and that the same command resumes (exit 130).
  const where: FlashWhere = { phase: 'connecting', blocksHeld: 0, blockCount: 0 };
  const onSigint = (): void => {
    io.err(`\n${interruptedText(where)}`);
    process.exit(130);
  };
  if (request.command === 'flash' && io === defaultIo) process.once('SIGINT', onSigint);
  try {
    // Everything that can be wrong on the command line is found before touching the meter.
    target = parseTarget(flags);
    const prepared = request.command === 'flash' ? prepareFlash(request) : await withMetadataCache(prepare(request), target);
    const logger = flags.verbose ? createLogger({ level: 'trace', pretty: process.stderr.isTTY }) : nullLogger;
    const security = target.security === undefined ? undefined : await clientSecurity(target, target.security);
    const { transport, modeE } = await openEndpoint(target.endpoint, undefined, target.timeoutMs);
    if (modeE) logger.info({ identification: modeE.identification, baudRate: modeE.baudRate }, 'mode E opened');
    client = new DlmsClient(transport, {
      framing: target.framing,
      clientAddress: target.clientAddress,
      serverAddress: target.serverAddress,
      authentication: target.authentication,
      ...(security === undefined ? {} : { security }),
      responseTimeoutMs: target.timeoutMs,
      retries: target.retries,
      ...(flags.gbt === false ? { gbt: { enabled: false } } : {}),
      logger: logger.child({ meter: describeEndpoint(target.endpoint) }),
    });
    await client.connect();
    if (prepared.command === 'flash') {
      const mode = flags.json ? 'json' : (io.isTty ?? (io === defaultIo && process.stdout.isTTY)) ? 'tty' : 'lines';
      const progress = io.progress ?? ((t: string) => void process.stdout.write(t));
      const result = await runFlash(client, prepared, { line: io.out, progress, mode, clock: systemClock, where });
      io.out(flags.json ? JSON.stringify(result.json) : result.text);
      return ExitCode.ok;
    }
    const output = await execute(client, prepared);
    if (output.meterError) {
      // A refusal: the text form shows what was asked and the answer; --json prints the error document.
      if (!flags.json) io.out(output.text);
      reportError(output.meterError, flags, io, hintContext(flags, target));
      return exitCodeFor(output.meterError);
    }
    io.out(flags.json ? JSON.stringify(output.json, null, 2) : output.text);
    if (output.note !== undefined && !flags.json) io.err(output.note);
    return ExitCode.ok;
  } catch (e) {
    const code = exitCodeFor(e);
    if (isDcuError(e)) {
      reportError(e, flags, io, hintContext(flags, target), mask(e.message, target));
      if (request.command === 'flash' && e.layer === 'transport') io.err('  the meter keeps the blocks it acknowledged: run the same command again to resume');
    } else {
      io.err(mask(`dcu probe: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, target));
    }
    return code;
  } finally {
    process.off('SIGINT', onSigint);
    if (client) {
      try {
        await client.close();
      } catch (e) {
        if (!(e instanceof DcuError)) io.err(`dcu probe: error while closing: ${String(e)}`);
      }
    }
  }
}
