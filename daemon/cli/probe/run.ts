import { DlmsClient } from '../../../protocol/client/client';
import { DcuError, isDcuError } from '../../../protocol/common/errors';
import { nullLogger } from '../../../protocol/common/log';
import { describeEndpoint, openEndpoint } from '../../../protocol/transport/endpoint';
import { createLogger } from '../../log';
import { ExitCode, exitCodeFor, hintFor } from '../exit-codes';
import type { ProbeRequest } from './command';
import { execute, prepare } from './commands';
import { parseTarget, type ProbeFlags } from './target';

export interface ProbeIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: ProbeIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

/** Runs one `dcu probe` command; returns the exit code (never throws). */
export async function runProbe(flags: ProbeFlags, request: ProbeRequest, io: ProbeIo = defaultIo): Promise<number> {
  let client: DlmsClient | undefined;
  try {
    // Everything that can be wrong on the command line is found before touching the meter.
    const target = parseTarget(flags);
    const prepared = prepare(request);
    const logger = flags.verbose ? createLogger({ level: 'trace' }) : nullLogger;
    const { transport, modeE } = await openEndpoint(target.endpoint, undefined, target.timeoutMs);
    if (modeE) logger.info({ identification: modeE.identification, baudRate: modeE.baudRate }, 'mode E opened');
    client = new DlmsClient(transport, {
      framing: target.framing,
      clientAddress: target.clientAddress,
      serverAddress: target.serverAddress,
      authentication: target.authentication,
      responseTimeoutMs: target.timeoutMs,
      retries: target.retries,
      logger: logger.child({ meter: describeEndpoint(target.endpoint) }),
    });
    await client.connect();
    const output = await execute(client, prepared);
    io.out(flags.json ? JSON.stringify(output.json, null, 2) : output.text);
    if (output.meterError) {
      io.err(`dcu probe: ${output.meterError.message}`);
      return exitCodeFor(output.meterError);
    }
    return ExitCode.ok;
  } catch (e) {
    const code = exitCodeFor(e);
    if (isDcuError(e)) {
      const hint = hintFor(e);
      if (flags.json) io.out(JSON.stringify({ error: { code: e.code, layer: e.layer, message: e.message, ...(hint ? { hint } : {}) } }, null, 2));
      io.err(`dcu probe: ${e.message}${hint ? `\n  hint: ${hint}` : ''}`);
    } else {
      io.err(`dcu probe: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    return code;
  } finally {
    if (client) {
      try {
        await client.close();
      } catch (e) {
        if (!(e instanceof DcuError)) io.err(`dcu probe: error while closing: ${String(e)}`);
      }
    }
  }
}
