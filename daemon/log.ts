import pino from 'pino';
import type { Logger } from '../protocol/common/log';
import { PINO_REDACT_PATHS } from '../protocol/security/redact';
import { prettyDestination } from './log-pretty';

/**
 * pino logger for the CLI and daemon. Keys and passwords are redacted by path; protocol
 * layers get child loggers through the Logger contract.
 */
export function createLogger(options: { level?: string; destination?: 1 | 2; name?: string; pretty?: boolean } = {}): Logger {
  const fd = options.destination ?? 2;
  const stream = fd === 1 ? process.stdout : process.stderr;
  return pino(
    { name: options.name ?? 'dcu', level: options.level ?? 'info', redact: { paths: [...PINO_REDACT_PATHS], censor: '[redacted]' } },
    // Text for a person at a terminal; JSON lines when piped (for tools), as pino writes them.
    options.pretty === true ? prettyDestination((t) => stream.write(t), stream.isTTY) : pino.destination({ fd, sync: true }),
  );
}
