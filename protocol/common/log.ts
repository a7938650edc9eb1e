/**
 * The logging contract of the protocol layers: a subset of pino's API, so the daemon passes
 * a pino child logger and protocol code stays free of the dependency. Frame hex goes at
 * trace level only; keys and passwords never reach a logger (see security/redact).
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled?(level: string): boolean;
}

const noop: LogFn = () => undefined;

export const nullLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => nullLogger,
  isLevelEnabled: () => false,
};
