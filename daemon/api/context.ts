/**
 * What the API's routes see: the daemon's parts, the users and the audit, the TLS
 * fingerprint. A route module is `(app, ctx) => void`; routes/index.ts lists them, and a
 * new area (firmware campaigns…) adds its module there.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema';
import type { Clock } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import type { Logger } from '../../protocol/common/log';
import type { Db } from '../../storage/db';
import type { JobStore } from '../../storage/jobs';
import type { MeterRepository } from '../../storage/meters';
import type { AuditLog, Role, UserRecord, UserStore } from '../../storage/users';
import type { Collector } from '../collect/collector';
import type { Firmware } from '../firmware/commands';
import type { HesCommands } from '../hes/commands';
import type { Scheduler } from '../jobs/scheduler';
import type { LineRuntime } from '../lines/line';
import type { LogRing } from '../log-ring';
import type { Uplink } from '../uplink/uplink';
import type { Authenticator } from './auth';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role a route needs; routes without one answer only /live on the socket. */
    role?: Role;
  }
  interface FastifyRequest {
    user?: UserRecord;
    failure?: DcuError;
  }
}

export interface ApiDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly db: Db;
  readonly meters: MeterRepository;
  readonly scheduler: Scheduler;
  readonly jobs: JobStore;
  /** Meter add/remove go through the HES command handler: one set of checks for both. */
  readonly hes: Pick<HesCommands, 'handle'>;
  readonly health: () => Record<string, unknown>;
  readonly lines: ReadonlyMap<string, LineRuntime>;
  readonly uplink: Uplink | undefined;
  /** Scheduled collection cycles: their meters count in the job metrics as class `scheduled`. */
  readonly collector?: Pick<Collector, 'onMeter'>;
  /** Firmware images (POST /api/v1/firmware/images). */
  readonly firmware?: Firmware;
  /** The daemon's recent log lines (GET /api/v1/logs); none in tests that pass no ring. */
  readonly logs?: LogRing;
}

export interface ApiContext {
  readonly deps: ApiDeps;
  readonly users: UserStore;
  readonly audit: AuditLog;
  readonly auth: Authenticator;
  /** SHA-256 fingerprint of the HTTPS certificate (undefined without api.listen). */
  readonly fingerprint: string | undefined;
  /** Ends every open stream (NDJSON follow) when the server closes. */
  readonly streams: Set<() => void>;
}

export type ApiRouteModule = (app: FastifyInstance, ctx: ApiContext) => void;

/** The HTTP status of a typed error. */
export function statusFor(e: DcuError): number {
  const forced = e.context['status'];
  if (typeof forced === 'number') return forced;
  switch (e.code) {
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.UnknownMeter:
      return 404;
    case ErrorCode.Conflict:
      return 409;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.TooManyAttempts:
      return 429;
    case ErrorCode.StorageFull:
      return 507;
    default:
      return e.layer === 'command' || e.layer === 'config' ? 400 : 500;
  }
}

export const notFound = (message: string): DcuError => new DcuError(ErrorCode.Usage, message, { context: { status: 404 } });

/** A source label for the audit and the login limiter. */
export const sourceOf = (ip: string | undefined, unix: boolean): string => (unix ? 'unix' : (ip ?? '?'));
