/**
 * `dcu` commands through the local API: everything with `--host HOST[:PORT]` (or DCU_HOST),
 * and on the box the commands that need the running daemon (`status`, `alarms`,
 * `meters add|remove|commission`) through `<stateDir>/dcu-api.sock`. `dcu users` on the box
 * (no --host) writes the users table directly: that is how the first admin is made.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { openStore } from '../storage/db';
import { ROLES, UserStore, type Role } from '../storage/users';
import { STORE_FILE } from '../daemon/dcud';
import { callJson, localTarget, remoteTarget, type ApiTarget, type GlobalOptions } from './api-client';
import { query as q, remoteOf, runAsync } from './remote-commands';
import { table } from '../common/render';
import { iso, stateDirOf, type StoreIo } from './store-commands';

type Exit = (code: number) => void;

/** Where a command goes: the remote API when --host is given, else the API socket of --state. */
export function targetOf(cmd: Command, env: NodeJS.ProcessEnv): ApiTarget {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return remoteTarget(g, env) ?? localTarget(g, env, stateDirOf(g, env));
}

const bytes = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`);
const uptime = (s: number): string => `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h ${Math.floor((s % 3600) / 60)}m`;

interface Status {
  id: string;
  uptimeS: number;
  lines: { name: string; busy: number; queued: number; capacity: number }[];
  meters: { total: number; commissioned: number; unreachable: number };
  jobs: { queued: number; running: number };
  alarmsOpen: number;
  outbox: { backlog: number };
  store: { bytes: number; maxBytes: number; fill: number | null };
  mqtt?: { broker: string; session: { connected: boolean; lastError: string | null } };
  tls: { fingerprint: string | null };
}

export function statusText(s: Status): string {
  return [
    `${s.id}  up ${uptime(s.uptimeS)}`,
    `lines     ${s.lines.map((l) => `${l.name} ${l.busy}/${l.capacity} busy, ${l.queued} waiting`).join('; ') || '(none)'}`,
    `meters    ${s.meters.total} (${s.meters.commissioned} commissioned, ${s.meters.unreachable} unreachable)`,
    `queue     ${s.jobs.queued} meter(s) queued, ${s.jobs.running} running`,
    `store     ${bytes(s.store.bytes)} of ${bytes(s.store.maxBytes)} (${s.store.fill === null ? '?' : (s.store.fill * 100).toFixed(1)}% full)`,
    `WAN/MQTT  ${s.mqtt === undefined ? 'not configured' : `${s.mqtt.session.connected ? 'connected' : 'DOWN'} (${s.mqtt.broker})${s.mqtt.session.lastError === null ? '' : `, last error: ${s.mqtt.session.lastError}`}`}`,
    `outbox    ${s.outbox.backlog} message(s) waiting`,
    `alarms    ${s.alarmsOpen} open`,
    `TLS       SHA-256 ${s.tls.fingerprint ?? '(no HTTPS: api.listen not configured)'}`,
  ].join('\n');
}

function meterDoc(o: { line: string; address: string; client: string; auth?: string; password?: string }, serial: string): Record<string, unknown> {
  const client = Number(o.client);
  if (!Number.isInteger(client)) throw new DcuError(ErrorCode.Usage, `--client must be a whole number; got "${o.client}"`);
  return { serial, line: o.line, address: o.address, client, ...(o.auth === undefined ? {} : { auth: o.auth }), ...(o.password === undefined ? {} : { password: o.password }) };
}

export function registerApiCommands(program: Command, onExit: Exit, io: StoreIo): void {
  const stateOpt = ['--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)'] as const;
  program
    .command('status')
    .description("the concentrator's health: uptime, lines, queue, store, WAN/MQTT, outbox, alarms, certificate fingerprint")
    .option(...stateOpt)
    .option('--json', 'print one JSON document')
    .action((opts: { json?: boolean }, cmd: Command) =>
      runAsync(io, onExit, async () => {
        const s = await callJson<Status>(targetOf(cmd, io.env), { method: 'GET', path: '/api/v1/status' });
        io.out(opts.json === true ? JSON.stringify(s, null, 2) : statusText(s));
      }),
    );

  program
    .command('alarms')
    .description('alarms raised by meters and the concentrator (open ones by default)')
    .option('--all', 'cleared ones too')
    .option('--meter <serial>', 'only this meter')
    .option('--limit <n>', 'at most this many', '200')
    .option(...stateOpt)
    .option('--json', 'print one JSON document')
    .action((opts: { all?: boolean; meter?: string; limit: string; json?: boolean }, cmd: Command) =>
      runAsync(io, onExit, async () => {
        const a = await callJson<{ alarms: { meter: string | null; code: string; detail: string; raisedAt: string; clearedAt: string | null }[] }>(targetOf(cmd, io.env), { method: 'GET', path: `/api/v1/alarms${q({ open: opts.all !== true, meter: opts.meter, limit: opts.limit })}` });
        io.out(opts.json === true ? JSON.stringify(a.alarms, null, 2) : `${table(['raised', 'meter', 'code', 'detail', 'cleared'], a.alarms.map((r) => [r.raisedAt, r.meter ?? '-', r.code, r.detail, r.clearedAt ?? '']))}\n${a.alarms.length} alarm(s)`);
      }),
    );

  const meters = program.commands.find((c) => c.name() === 'meters') ?? program.command('meters');
  meters
    .command('add <serial>')
    .description('register a meter in the running daemon (operator)')
    .requiredOption('--line <name>', 'the line it is on')
    .requiredOption('--address <address>', 'HDLC LOGICAL/PHYSICAL on a serial line, HOST:PORT on TCP/UDP')
    .option('--client <n>', 'client address', '16')
    .option('--auth <mechanism>', 'none, low, high-gmac, high-sha256')
    .option('--password <text>', 'LLS password (auth low)')
    .option(...stateOpt)
    .action((serial: string, opts: { line: string; address: string; client: string; auth?: string; password?: string }, cmd: Command) =>
      runAsync(io, onExit, async () => {
        const r = await callJson<{ serial: string; result: string }>(targetOf(cmd, io.env), { method: 'POST', path: '/api/v1/meters', body: { meter: meterDoc(opts, serial) } });
        io.out(`${r.serial} ${r.result}`);
      }),
    );
  meters
    .command('remove <serial>')
    .description('remove a meter from the registry of the running daemon (its stored data stays; operator)')
    .option(...stateOpt)
    .action((serial: string, _opts: object, cmd: Command) =>
      runAsync(io, onExit, async () => {
        const r = await callJson<{ serial: string; result: string }>(targetOf(cmd, io.env), { method: 'DELETE', path: `/api/v1/meters/${encodeURIComponent(serial)}` });
        io.out(`${r.serial} ${r.result}`);
      }),
    );
  meters
    .command('commission <serial>')
    .description('queue a read (registers, clock) that links and identifies a registered meter (operator)')
    .option(...stateOpt)
    .action((serial: string, _opts: object, cmd: Command) =>
      runAsync(io, onExit, async () => {
        const r = await callJson<{ job: string }>(targetOf(cmd, io.env), { method: 'POST', path: `/api/v1/meters/${encodeURIComponent(serial)}/commission` });
        io.out(`${serial}: commissioning read queued as ${r.job} (dcu jobs show ${r.job})`);
      }),
    );

  const users = program.command('users').description('API users and their tokens (admin); on the box without --host: directly in the store');
  const local = <T>(cmd: Command, fn: (store: UserStore) => T): T => {
    const db = openStore(join(stateDirOf(cmd.optsWithGlobals<GlobalOptions>(), io.env), STORE_FILE));
    try {
      return fn(new UserStore(db));
    } finally {
      db.close();
    }
  };
  users
    .command('add <name>')
    .description('create a user and print its token, once (keep it in a file: --token-file)')
    .requiredOption('--role <role>', ROLES.join(', '))
    .option(...stateOpt)
    .option('--json', 'print one JSON document')
    .action((name: string, opts: { role: string; json?: boolean }, cmd: Command) =>
      runAsync(io, onExit, async () => {
        if (!(ROLES as readonly string[]).includes(opts.role)) throw new DcuError(ErrorCode.Usage, `--role is one of ${ROLES.join(', ')}; got "${opts.role}"`);
        const remote = remoteOf(cmd, io.env);
        const token = remote === undefined ? local(cmd, (s) => s.add(name, opts.role as Role, `cli:${process.env.USER ?? 'box'}`, Date.now())) : (await callJson<{ token: string }>(remote, { method: 'POST', path: '/api/v1/users', body: { name, role: opts.role } })).token;
        if (opts.json === true) io.out(JSON.stringify({ name, role: opts.role, token }));
        else {
          io.out(token);
          io.err(`dcu: user ${name} (${opts.role}) created; the token above is shown only now`);
        }
      }),
    );
  users
    .command('remove <name>')
    .description('remove a user: its token stops working')
    .option(...stateOpt)
    .action((name: string, _opts: object, cmd: Command) =>
      runAsync(io, onExit, async () => {
        const remote = remoteOf(cmd, io.env);
        if (remote !== undefined) await callJson(remote, { method: 'DELETE', path: `/api/v1/users/${encodeURIComponent(name)}` });
        else if (!local(cmd, (s) => s.remove(name))) throw new DcuError(ErrorCode.Usage, `no user ${name} (dcu users list shows them)`);
        io.out(`${name} removed`);
      }),
    );
  users
    .command('list')
    .description('users and their roles')
    .option(...stateOpt)
    .option('--json', 'print one JSON document')
    .action((opts: { json?: boolean }, cmd: Command) =>
      runAsync(io, onExit, async () => {
        const remote = remoteOf(cmd, io.env);
        const list = remote === undefined ? local(cmd, (s) => s.list().map((u) => ({ ...u, createdAt: iso(u.createdAt) }))) : (await callJson<{ users: { name: string; role: string; createdAt: string; createdBy: string }[] }>(remote, { method: 'GET', path: '/api/v1/users' })).users;
        io.out(opts.json === true ? JSON.stringify(list, null, 2) : `${table(['name', 'role', 'created', 'by'], list.map((u) => [u.name, u.role, u.createdAt, u.createdBy]))}\n${list.length} user(s)`);
      }),
    );
}
