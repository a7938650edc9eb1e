import pino from 'pino';
import type { Logger } from '../protocol/common/log';
import { PINO_REDACT_PATHS } from '../protocol/security/redact';
import { LogRing } from './log-ring';
import { prettyDestination } from './log-pretty';

/** The ring of recent lines behind each root logger made here (see logRingOf). */
const rings = new WeakMap<object, LogRing>();

/**
 * pino logger for the CLI and daemon. Keys and passwords are redacted by path; protocol
 * layers get child loggers through the Logger contract. Every line written also goes to a
 * ring of recent lines (off until someone asks for it with logRingOf: `dcu logs`).
 */
export function createLogger(options: { level?: string; destination?: 1 | 2; name?: string; pretty?: boolean } = {}): Logger {
  const fd = options.destination ?? 2;
  const stream = fd === 1 ? process.stdout : process.stderr;
  const ring = new LogRing();
  const logger = pino(
    {
      name: options.name ?? 'dcu',
      level: options.level ?? 'info',
      redact: { paths: [...PINO_REDACT_PATHS], censor: '[redacted]' },
      hooks: {
        streamWrite: (s: string) => {
          ring.push(s);
          return s;
        },
      },
    },
    // Text for a person at a terminal; JSON lines when piped (for tools), as pino writes them.
    options.pretty === true ? prettyDestination((t) => stream.write(t), stream.isTTY) : pino.destination({ fd, sync: true }),
  );
  rings.set(logger, ring);
  return logger;
}

/** The recent-lines ring of a logger made by createLogger (now keeping lines), or undefined (nullLogger, test loggers). */
export function logRingOf(logger: Logger): LogRing | undefined {
  const ring = rings.get(logger);
  if (ring !== undefined) ring.enabled = true;
  return ring;
}
