/**
 * A real mosquitto 2 for uplink tests: its own config file, a free port, optionally a
 * password file (mosquitto_passwd), an ACL and a TLS listener with a test CA and client
 * certificate made by the openssl CLI. `stop()` / `start()` restart it on the same ports
 * (an outage); `close()` kills it and removes the directory.
 *
 *   const broker = await startMosquitto({ users: { dcu: 'secret' }, acl: 'user dcu\ntopic readwrite dcu/#' });
 *   ... mqtt url broker.url ...
 *   await broker.close();
 */
import { canConnect, freePort } from '../../sim/cli/demo-parts/broker';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface MosquittoOptions {
  /** user → password (password file via mosquitto_passwd); absent: anonymous allowed. */
  readonly users?: Readonly<Record<string, string>>;
  /** ACL file text (mosquitto acl_file syntax). */
  readonly acl?: string;
  /** Also listen with TLS (test CA, client certificate required). */
  readonly tls?: boolean;
  /** max_inflight_messages / receive maximum the broker announces. */
  readonly maxInflight?: number;
}

export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface Mosquitto {
  readonly port: number;
  readonly url: string;
  readonly tlsPort?: number;
  readonly tlsUrl?: string;
  readonly tls?: TlsFiles;
  readonly dir: string;
  /** Stops the broker (SIGKILL: like a crashed broker or a dead link). */
  stop(): Promise<void>;
  /** Starts it again on the same ports. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

// Port probing is the demo's (sim/cli/demo-parts/broker.ts): one copy.
export { freePort };

async function waitPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${log()}`);
    if (Date.now() > end) throw new Error(`mosquitto did not listen on ${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A test CA, a server certificate for 127.0.0.1/localhost and a client certificate. */
export function makeTestCa(dir: string): TlsFiles & { serverCert: string; serverKey: string } {
  const f = (n: string): string => join(dir, n);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=dcu test CA');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, cn, ext] of [['server', 'localhost', true], ['client', 'dcu1', false]] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '2', ...(ext ? ['-extfile', f('server.ext')] : []));
  }
  return { ca: f('ca.crt'), cert: f('client.crt'), key: f('client.key'), serverCert: f('server.crt'), serverKey: f('server.key') };
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'dcu-mosq-'));
  const port = await freePort();
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning'];
  if (options.maxInflight !== undefined) lines.push(`max_inflight_messages ${options.maxInflight}`);
  if (options.users !== undefined) {
    const pw = join(dir, 'passwd');
    writeFileSync(pw, '');
    for (const [u, p] of Object.entries(options.users)) execFileSync('mosquitto_passwd', ['-b', pw, u, p], { stdio: 'pipe' });
    lines.push('allow_anonymous false', `password_file ${pw}`);
  } else {
    lines.push('allow_anonymous true');
  }
  if (options.acl !== undefined) {
    writeFileSync(join(dir, 'acl'), `${options.acl}\n`);
    lines.push(`acl_file ${join(dir, 'acl')}`);
  }
  let tlsPort: number | undefined;
  let tls: (TlsFiles & { serverCert: string; serverKey: string }) | undefined;
  if (options.tls === true) {
    tls = makeTestCa(dir);
    tlsPort = await freePort();
    lines.push(`listener ${tlsPort} 127.0.0.1`, `cafile ${tls.ca}`, `certfile ${tls.serverCert}`, `keyfile ${tls.serverKey}`, 'require_certificate true');
    if (options.users === undefined) lines.push('allow_anonymous true');
  }
  const conf = join(dir, 'mosquitto.conf');
  // run as ourselves: as root, mosquitto would drop to user `mosquitto`, who cannot read our temporary files
  writeFileSync(conf, `per_listener_settings false\nuser ${userInfo().username}\n${lines.join('\n')}\n`);
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async (): Promise<void> => {
    stderr = '';
    const c = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    live.add(c);
    child = c;
    await waitPort(port, c, () => stderr);
    if (tlsPort !== undefined) await waitPort(tlsPort, c, () => stderr);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
    live.delete(c);
  };
  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    ...(tlsPort === undefined ? {} : { tlsPort, tlsUrl: `mqtts://127.0.0.1:${tlsPort}` }),
    ...(tls === undefined ? {} : { tls: { ca: tls.ca, cert: tls.cert, key: tls.key } }),
    dir,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
