import pino from 'pino';
import type { Logger } from '../protocol/common/log';
import { PINO_REDACT_PATHS } from '../protocol/security/redact';

/**
 * pino logger for the CLI and daemon. Keys and passwords are redacted by path; protocol
 * layers get child loggers through the Logger contract.
 */
export function createLogger(options: { level?: string; destination?: 1 | 2; name?: string } = {}): Logger {
  return pino(
    { name: options.name ?? 'dcu', level: options.level ?? 'info', redact: { paths: [...PINO_REDACT_PATHS], censor: '[redacted]' } },
    pino.destination({ fd: options.destination ?? 2, sync: true }),
  );
}
