import { homedir } from 'node:os';
import { join } from 'node:path';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { fromHex } from '../../protocol/common/hex';
import type { Authentication, Framing, ServerAddress } from '../../protocol/client/options';
import { SECURITY_POLICIES, type SecurityPolicy } from '../../protocol/security/security-control';
import type { Endpoint } from '../../protocol/transport/endpoint';

/** Raw `dcu probe` options as commander hands them over. */
export interface ProbeFlags {
  serial?: string;
  baud?: string;
  modeE?: boolean;
  tcp?: string;
  udp?: string;
  framing?: string;
  client?: string;
  server?: string;
  auth?: string;
  password?: string;
  secret?: string;
  security?: string;
  systemTitle?: string;
  blockKey?: string;
  authKey?: string;
  invocationCounter?: string;
  counterFile?: string;
  dedicatedKey?: boolean;
  timeout?: string;
  retries?: string;
  /** commander's --no-gbt: false when given. */
  gbt?: boolean;
  json?: boolean;
  verbose?: boolean;
}


/** Security suite 0 settings from the command line (keys stay in memory only). */
export interface ProbeSecurity {
  policy: SecurityPolicy;
  systemTitle: Uint8Array;
  blockKey: Uint8Array;
  authKey: Uint8Array;
  dedicatedKey: boolean;
  /** --invocation-counter: the next counter to use (the counter file never goes back). */
  invocationCounter?: number;
  /** Where counters persist (default ~/.dcu/counters.json). */
  counterFile: string;
}

export interface ProbeTarget {
  endpoint: Endpoint;
  framing: Framing;
  clientAddress: number;
  serverAddress: ServerAddress;
  authentication: Authentication;
  security?: ProbeSecurity;
  timeoutMs: number;
  retries: number;
}

export const DEFAULT_COUNTER_FILE = join(homedir(), '.dcu', 'counters.json');

/** A key or system title in hex; the value itself is never echoed in the message. */
function hexBytes(text: string, flag: string, length: number): Uint8Array {
  const clean = text.replace(/^hex:/i, '').replace(/[\s:]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(clean) || clean.length !== length * 2) {
    throw usage(`${flag} takes ${length} bytes as ${length * 2} hex digits (got ${clean.length} characters${/^[0-9a-fA-F]*$/.test(clean) ? '' : ', not all hex'})`);
  }
  return fromHex(clean);
}

function parseSecurity(flags: ProbeFlags, hls: boolean): ProbeSecurity | undefined {
  const policy = flags.security ?? (hls ? 'auth-enc' : 'none');
  if (!(SECURITY_POLICIES as readonly string[]).includes(policy)) throw usage(`--security is none, auth, enc or auth-enc, got "${policy}"`);
  const given = [flags.systemTitle, flags.blockKey, flags.authKey, flags.invocationCounter, flags.counterFile].some((x) => x !== undefined) || flags.dedicatedKey === true;
  if (!hls && policy === 'none') {
    if (given) throw usage('--system-title, --block-key, --auth-key, --invocation-counter, --counter-file and --dedicated-key need --auth high-gmac or --security auth|enc|auth-enc');
    return undefined;
  }
  if (flags.systemTitle === undefined || flags.blockKey === undefined || flags.authKey === undefined) {
    throw usage('HLS-GMAC and ciphering need --system-title HEX (8 bytes), --block-key HEX and --auth-key HEX (16 bytes each)');
  }
  if (flags.dedicatedKey === true && policy !== 'enc' && policy !== 'auth-enc') throw usage('--dedicated-key needs --security enc or auth-enc');
  return {
    policy: policy as SecurityPolicy,
    systemTitle: hexBytes(flags.systemTitle, '--system-title', 8),
    blockKey: hexBytes(flags.blockKey, '--block-key', 16),
    authKey: hexBytes(flags.authKey, '--auth-key', 16),
    dedicatedKey: flags.dedicatedKey === true,
    ...(flags.invocationCounter === undefined ? {} : { invocationCounter: integer(flags.invocationCounter, '--invocation-counter', 0, 0xffffffff) }),
    counterFile: flags.counterFile ?? DEFAULT_COUNTER_FILE,
  };
}

const usage = (message: string): DcuError => new DcuError(ErrorCode.Usage, message);

function integer(text: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw usage(`${what} must be a whole number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw usage(`${what} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** The rates meters and their adapters use (IEC 62056-21 300..19200, and the usual RS-485 ones above). */
export const BAUD_RATES = [300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

function baudRate(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(BAUD_RATES as readonly number[]).includes(n)) throw usage(`--baud must be one of ${BAUD_RATES.join(', ')}; got "${text}"`);
  return n;
}

function hostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!m) throw usage(`${flag} takes HOST:PORT, e.g. ${flag} 127.0.0.1:4059`);
  return { host: m[1] ?? m[2] ?? '', port: integer(m[3] ?? '', `${flag} port`, 1, 65535) };
}

export function parseServerAddress(text: string): ServerAddress {
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) throw usage(`--server takes LOGICAL[/PHYSICAL], e.g. --server 1 or --server 1/17; got "${text}"`);
  const logical = integer(m[1] ?? '', 'logical address', 0, 0x3fff);
  if (m[2] === undefined) return { logical };
  return { logical, physical: integer(m[2], 'physical address', 0, 0x3fff) };
}

/** TEXT (latin1 bytes) or hex:HEX; the value is never echoed in the message. */
function textOrHex(text: string, flag: string): Uint8Array {
  if (text.toLowerCase().startsWith('hex:')) {
    try {
      return fromHex(text.slice(4));
    } catch {
      throw usage(`${flag} hex:… must be hex digits, e.g. hex:3132333435363738`);
    }
  }
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

export function parsePassword(text: string): Uint8Array {
  return textOrHex(text, '--password');
}

/** The HLS-SHA256 secret of --secret TEXT|hex:HEX (not empty). */
export function parseSecret(text: string): Uint8Array {
  const secret = textOrHex(text, '--secret');
  if (secret.length === 0) throw usage('--secret must not be empty');
  return secret;
}

/**
 * HLS-SHA256 ciphers only when asked: --security auth|enc|auth-enc, or keys given (then
 * auth-enc by default). Without, the context stays plain and no counter file is touched.
 */
function parseSha256Security(flags: ProbeFlags): ProbeSecurity | undefined {
  const keys = flags.blockKey !== undefined || flags.authKey !== undefined;
  const policy = flags.security ?? (keys ? 'auth-enc' : 'none');
  if (policy !== 'none') return parseSecurity({ ...flags, security: policy }, true);
  const given = keys || flags.invocationCounter !== undefined || flags.counterFile !== undefined || flags.dedicatedKey === true;
  if (given) throw usage('--block-key, --auth-key, --invocation-counter, --counter-file and --dedicated-key need ciphering: --security auth|enc|auth-enc');
  return undefined;
}

export function parseTarget(flags: ProbeFlags): ProbeTarget {
  const chosen = [flags.serial, flags.tcp, flags.udp].filter((x) => x !== undefined);
  if (chosen.length !== 1) throw usage('give exactly one of --serial PATH, --tcp HOST:PORT or --udp HOST:PORT');
  let endpoint: Endpoint;
  if (flags.serial !== undefined) {
    endpoint = { kind: 'serial', path: flags.serial, baudRate: flags.baud === undefined ? 9600 : baudRate(flags.baud), modeE: flags.modeE === true };
  } else {
    if (flags.baud !== undefined || flags.modeE) throw usage('--baud and --mode-e apply to --serial only');
    endpoint = flags.tcp !== undefined ? { kind: 'tcp', ...hostPort(flags.tcp, '--tcp') } : { kind: 'udp', ...hostPort(flags.udp ?? '', '--udp') };
  }
  const framing = flags.framing ?? (endpoint.kind === 'serial' ? 'hdlc' : 'wrapper');
  if (framing !== 'hdlc' && framing !== 'wrapper') throw usage(`--framing is hdlc or wrapper, got "${framing}"`);
  if (endpoint.kind === 'serial' && endpoint.modeE && framing !== 'hdlc') throw usage('--mode-e opens an HDLC session: use --framing hdlc');

  const auth = flags.auth ?? 'none';
  let authentication: Authentication;
  if (auth === 'none') {
    if (flags.password !== undefined) throw usage('--password needs --auth low');
    authentication = { mechanism: 'none' };
  } else if (auth === 'low') {
    if (flags.password === undefined) throw usage('--auth low needs --password TEXT or --password hex:HEX');
    authentication = { mechanism: 'low', password: parsePassword(flags.password) };
  } else if (auth === 'high-gmac') {
    if (flags.password !== undefined) throw usage('--password is for --auth low; HLS-GMAC uses --block-key and --auth-key');
    authentication = { mechanism: 'high-gmac' };
  } else if (auth === 'high-sha256') {
    if (flags.password !== undefined) throw usage('--password is for --auth low; HLS-SHA256 uses --secret');
    if (flags.secret === undefined || flags.systemTitle === undefined) {
      throw usage('--auth high-sha256 needs --secret TEXT (or hex:HEX) and --system-title HEX (our 8-byte system title)');
    }
    authentication = { mechanism: 'high-sha256', secret: parseSecret(flags.secret), systemTitle: hexBytes(flags.systemTitle, '--system-title', 8) };
  } else {
    throw usage(`--auth is none, low, high-gmac or high-sha256, got "${auth}"`);
  }
  if (flags.secret !== undefined && auth !== 'high-sha256') throw usage('--secret needs --auth high-sha256');
  const security = auth === 'high-sha256' ? parseSha256Security(flags) : parseSecurity(flags, auth === 'high-gmac');
  const hls = auth === 'high-gmac' || auth === 'high-sha256';
  const clientAddress = flags.client === undefined ? (auth === 'low' ? 17 : hls ? 1 : 16) : integer(flags.client, '--client', 1, 0x7f);
  return {
    endpoint,
    framing,
    clientAddress,
    serverAddress: flags.server === undefined ? { logical: 1 } : parseServerAddress(flags.server),
    authentication,
    ...(security === undefined ? {} : { security }),
    timeoutMs: flags.timeout === undefined ? 5000 : integer(flags.timeout, '--timeout', 50, 600_000),
    retries: flags.retries === undefined ? 3 : integer(flags.retries, '--retries', 0, 20),
  };
}
