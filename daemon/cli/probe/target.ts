import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { fromHex } from '../../../protocol/common/hex';
import type { Authentication, Framing, ServerAddress } from '../../../protocol/client/options';
import type { Endpoint } from '../../../protocol/transport/endpoint';

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
  timeout?: string;
  retries?: string;
  json?: boolean;
  verbose?: boolean;
}


export interface ProbeTarget {
  endpoint: Endpoint;
  framing: Framing;
  clientAddress: number;
  serverAddress: ServerAddress;
  authentication: Authentication;
  timeoutMs: number;
  retries: number;
}

const usage = (message: string): DcuError => new DcuError(ErrorCode.Usage, message);

function integer(text: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw usage(`${what} must be a whole number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw usage(`${what} must be between ${min} and ${max}, got ${n}`);
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

export function parsePassword(text: string): Uint8Array {
  if (text.toLowerCase().startsWith('hex:')) {
    try {
      return fromHex(text.slice(4));
    } catch {
      throw usage('--password hex:… must be hex digits, e.g. hex:3132333435363738');
    }
  }
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

export function parseTarget(flags: ProbeFlags): ProbeTarget {
  const chosen = [flags.serial, flags.tcp, flags.udp].filter((x) => x !== undefined);
  if (chosen.length !== 1) throw usage('give exactly one of --serial PATH, --tcp HOST:PORT or --udp HOST:PORT');
  let endpoint: Endpoint;
  if (flags.serial !== undefined) {
    endpoint = { kind: 'serial', path: flags.serial, baudRate: flags.baud === undefined ? 9600 : integer(flags.baud, '--baud', 300, 921600), modeE: flags.modeE === true };
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
  } else {
    throw usage(`--auth is none or low, got "${auth}"`);
  }
  const clientAddress = flags.client === undefined ? (auth === 'low' ? 17 : 16) : integer(flags.client, '--client', 1, 0x7f);
  return {
    endpoint,
    framing,
    clientAddress,
    serverAddress: flags.server === undefined ? { logical: 1 } : parseServerAddress(flags.server),
    authentication,
    timeoutMs: flags.timeout === undefined ? 5000 : integer(flags.timeout, '--timeout', 50, 600_000),
    retries: flags.retries === undefined ? 3 : integer(flags.retries, '--retries', 0, 20),
  };
}
