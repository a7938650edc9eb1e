import { DcuError, ErrorCode, isDcuError } from '../protocol/common/errors';

/**
 * Exit codes of `dcu` commands. Scripts in the field branch on them, so they are stable:
 *   0 ok · 1 internal error · 2 usage or invalid value · 3 transport or timeout ·
 *   4 association refused or authentication failed · 5 the meter answered with an error ·
 *   6 malformed data from the meter (framing/decoding) · 7 storage (counter file, state
 *   directory) · 8 configuration (configuration file)
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  transport: 3,
  association: 4,
  meter: 5,
  malformed: 6,
  storage: 7,
  config: 8,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeFor(e: unknown): ExitCode {
  if (!isDcuError(e)) return ExitCode.internal;
  switch (e.layer) {
    case 'command':
      return ExitCode.usage;
    case 'transport':
      return ExitCode.transport;
    case 'association':
      return ExitCode.association;
    case 'meter':
      return ExitCode.meter;
    case 'framing':
    case 'decoding':
      return ExitCode.malformed;
    case 'storage':
      return ExitCode.storage;
    case 'config':
      return ExitCode.config;
    default:
      return ExitCode.internal;
  }
}

/**
 * What the command line chose, so a hint can point the right way: a timeout on TCP is not
 * a cable, a refused association of client 17 without a password is not a key problem.
 */
export interface HintContext {
  readonly endpoint?: 'serial' | 'tcp' | 'udp';
  readonly framing?: 'hdlc' | 'wrapper';
  readonly client?: number;
  readonly auth?: string;
}

const otherFraming = (f: HintContext['framing']): string => (f === 'hdlc' ? 'wrapper' : 'hdlc');

function timeoutHint(ctx: HintContext): string {
  if (ctx.endpoint === 'tcp' || ctx.endpoint === 'udp') {
    return `the meter did not answer over ${ctx.endpoint.toUpperCase()}: check the framing (this try used --framing ${ctx.framing ?? 'wrapper'}; try --framing ${otherFraming(ctx.framing ?? 'wrapper')}), the logical device (--server), host:port, and try a longer --timeout`;
  }
  return 'check the cable/probe, the baud rate (--baud), the server address (--server LOGICAL/PHYSICAL) and try a longer --timeout';
}

function authHint(ctx: HintContext): string {
  const client = ctx.client === undefined ? 'this client address' : `client ${ctx.client}`;
  switch (ctx.auth) {
    case 'none':
      if (ctx.client === 1) return 'client 1 (management) needs HLS: add --auth high-gmac --system-title HEX --block-key HEX --auth-key HEX (or --auth high-sha256 --secret …)';
      return `${client} needs a password: add --auth low --password TEXT (or hex:HEX); only the public client 16 reads without authentication`;
    case 'low':
      return `the LLS password is wrong for ${client}: check --password (TEXT or hex:HEX) and --client`;
    case 'high-gmac':
      return `the keys are wrong for ${client}: check --block-key, --auth-key, --system-title and --client`;
    case 'high-sha256':
      return `the secret is wrong for ${client}: check --secret, --system-title and --client`;
    default:
      return 'the password, keys or secret are wrong for this client address (HLS-GMAC: check --block-key, --auth-key, --system-title and --client; HLS-SHA256: check --secret and --system-title)';
  }
}

/** Hints for a meter's refusal (DataAccessResult / ActionResult name in context.result). */
function refusalHint(e: DcuError, ctx: HintContext): string {
  const result = String(e.context['result'] ?? '');
  const service = String(e.context['service'] ?? '');
  const client = ctx.client === undefined ? 'this client' : `client ${ctx.client}`;
  switch (result) {
    case 'object-undefined':
      return 'the meter has no such object (or not for this client): list what it has with `dcu probe objects`, and check the class, OBIS code and attribute';
    case 'read-write-denied':
    case 'scope-of-access-violated':
      if (service === 'set' || service === 'action') {
        const verb = service === 'set' ? 'write' : 'invoke';
        if (ctx.client === 1) return `client 1 may not ${verb} this: check --security (auth-enc) and the access rights in \`dcu probe objects\``;
        return `${client} ${ctx.client === 17 ? 'reads only' : `may not ${verb} this`}: writing needs the management client (e.g. --client 1 --auth high-gmac with its keys); \`dcu probe objects\` shows the access rights of the client you log in as`;
      }
      return `${client} may not read this: \`dcu probe objects\` shows this client's access rights; try the reading client (--client 17 --auth low --password …) or the management client (--client 1 --auth high-gmac …)`;
    case 'type-unmatched':
      return 'the meter expects another Data type: read the attribute first (`dcu probe get`) and write the same type (see docs/data-notation.md)';
    case 'temporary-failure':
      return 'the meter is busy (e.g. verifying or activating an image): retry in a moment';
    default:
      return 'the meter refused this object/attribute: check the OBIS code, class and attribute with `dcu probe objects`';
  }
}

/** What to try next, by error code: appended to the message a technician sees. */
export function hintFor(e: DcuError, ctx: HintContext = {}): string | undefined {
  switch (e.code) {
    case ErrorCode.Timeout:
    case ErrorCode.LinkRetriesExhausted:
      return timeoutHint(ctx);
    case ErrorCode.TransportOpenFailed:
      return ctx.endpoint === 'serial' || ctx.endpoint === undefined
        ? 'check the device path or host:port and that no other process holds the port'
        : 'check host:port, that the meter (or the simulator) runs and listens there, and the network path';
    case ErrorCode.TransportVanished:
      if (ctx.endpoint === 'udp') return 'no meter listens at that UDP port ("connection refused"): check host:port and that the meter or simulator runs';
      if (ctx.endpoint === 'tcp') return 'the meter (or a gateway on the way) closed the TCP connection: check host:port, the client address and that the meter or simulator still runs';
      return 'the port disappeared (USB adapter unplugged?) — reconnect it and retry';
    case ErrorCode.AssociationRefused:
      if (ctx.auth === 'none' && ctx.client !== undefined && ctx.client !== 16) return authHint(ctx);
      return 'check --client, --auth and --password; the meter may not allow this client address';
    case ErrorCode.AssociationAuthFailed:
      return authHint(ctx);
    case ErrorCode.SecurityBadTag:
      return 'a ciphered answer did not authenticate: wrong keys, or the data was altered on the way';
    case ErrorCode.SecurityReplay:
      return 'the meter sent an invocation counter it had used before (a replayed or stale answer): retry, and check nothing else talks to this meter with the same keys';
    case ErrorCode.SecurityCounterExhausted:
      return 'the invocation counter reached 2^32-1 for this key: the keys must be changed';
    case ErrorCode.SecurityBadKey:
    case ErrorCode.SecurityUnsupported:
      return 'check --security, --block-key/--auth-key (16 bytes each) and what the meter supports';
    case ErrorCode.MeterDataAccess:
    case ErrorCode.MeterActionResult:
      return refusalHint(e, ctx);
    case ErrorCode.UnknownObis:
      return 'OBIS codes look like 1.0.1.8.0.255 or 1-0:1.8.0*255';
    case ErrorCode.FramingMismatch:
      return `the meter speaks the other framing: use --framing ${String(e.context['detected'] ?? otherFraming(ctx.framing))}`;
    case ErrorCode.FramingBadFcs:
    case ErrorCode.FramingProtocol:
      return ctx.endpoint === 'tcp' || ctx.endpoint === 'udp'
        ? `wrong framing or a broken answer: try --framing ${otherFraming(ctx.framing ?? 'wrapper')}`
        : 'line noise or wrong framing: try --framing hdlc|wrapper and a lower --baud';
    case ErrorCode.Storage:
    case ErrorCode.StorageFull:
    case ErrorCode.StorageTooNew:
      return 'check the path (--counter-file for dcu probe, --state for dcu-sim): the directory must exist or be creatable, and be writable';
    case ErrorCode.Usage:
    case ErrorCode.UnknownClass:
    case ErrorCode.InvalidValue:
      return 'run with --help for usage and examples';
    default:
      return undefined;
  }
}
