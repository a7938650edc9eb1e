import { DcuError, ErrorCode, isDcuError } from '../../protocol/common/errors';

/**
 * Exit codes of `dcu` commands. Scripts in the field branch on them, so they are stable:
 *   0 ok · 1 internal error · 2 usage or invalid value · 3 transport or timeout ·
 *   4 association refused or authentication failed · 5 the meter answered with an error ·
 *   6 malformed data from the meter (framing/decoding) · 7 storage · 8 configuration
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

/** What to try next, by error code: appended to the message a technician sees. */
export function hintFor(e: DcuError): string | undefined {
  switch (e.code) {
    case ErrorCode.Timeout:
    case ErrorCode.LinkRetriesExhausted:
      return 'check the cable/probe, the baud rate (--baud), the server address (--server LOGICAL/PHYSICAL) and try a longer --timeout';
    case ErrorCode.TransportOpenFailed:
      return 'check the device path or host:port and that no other process holds the port';
    case ErrorCode.TransportVanished:
      return 'the port disappeared (USB adapter unplugged?) — reconnect it and retry';
    case ErrorCode.AssociationRefused:
      return 'check --client, --auth and --password; the meter may not allow this client address';
    case ErrorCode.AssociationAuthFailed:
      return 'the password, keys or secret are wrong for this client address (HLS-GMAC: check --block-key, --auth-key, --system-title and --client; HLS-SHA256: check --secret and --system-title)';
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
      return 'the meter refused this object/attribute: check the OBIS code, class and attribute with `dcu probe objects`';
    case ErrorCode.UnknownObis:
      return 'OBIS codes look like 1.0.1.8.0.255 or 1-0:1.8.0*255';
    case ErrorCode.FramingBadFcs:
    case ErrorCode.FramingProtocol:
      return 'line noise or wrong framing: try --framing hdlc|wrapper and a lower --baud';
    default:
      return undefined;
  }
}
