/**
 * `dcu firmware …`: firmware images and update campaigns in the running daemon, through its
 * local socket (the same handlers as the HES fw-* commands):
 *   upload FILE [--manifest M | --target-version V]   prints the image id (also with --host: the
 *                   API, admin, with the bytes sent on a progress line)
 *   images
 *   campaign create --image ID (--meters S1,S2 | --line NAME | --all) [--priority N] [--retries N]
 *                   [--deadline 3d] [--window 22:00-06:00] [--activate now|at ISO|manual]   prints the campaign id
 *   campaign status ID [--json] [--watch] · list · cancel ID · retry ID · activate ID
 * Every one of them also goes to a remote box with --host (or DCU_HOST): the API
 * (/api/v1/firmware/…), with the same output and exit codes; none falls back to the local
 * state directory then.
 * Exit 0 ok, 2 refused (bad request, image rejected), 3 daemon not reachable; --watch: 5 when a
 * meter ended KO.
 */
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { readUserFile } from '../config/file-text';
import { resolve } from 'node:path';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { MANIFEST_HEADER } from '../daemon/api/routes/firmware';
import { callJson, type ApiTarget, type Call } from './api-client';
import { ask, notReachable } from './daemon-socket';
import { ExitCode, exitCodeFor } from '../common/exit-codes';
import { bytesText, kb, watchCampaign } from './firmware-watch';
import { progressFor, type Progress } from './progress';
import { remoteOf, runAsync } from './remote-commands';
import { table } from '../common/render';
import { stateDirOf, type StoreIo } from './store-commands';

type Doc = Record<string, unknown>;
const STATE_OPT = ['--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)'] as const;
const list = (text: string | undefined): string[] | undefined => text?.split(',').map((s) => s.trim()).filter((s) => s !== '');

/**
 * One request, its one answer: over the API when --host (or DCU_HOST) is given, else through
 * the daemon's socket in the state directory. `print` gets the same document either way.
 */
async function call(io: StoreIo, onExit: (code: number) => void, command: string, cmd: Command, request: Doc, api: Call, print: (a: Doc) => void): Promise<void> {
  let remote: ApiTarget | undefined;
  let stateDir: string;
  try {
    remote = remoteOf(cmd, io.env);
    stateDir = stateDirOf(cmd.optsWithGlobals<{ state?: string }>(), io.env);
  } catch (e) {
    io.err(`${command}: ${e instanceof Error ? e.message : String(e)}`);
    onExit(exitCodeFor(e));
    return;
  }
  if (remote !== undefined) {
    try {
      print(await callJson<Doc>(remote, api));
      onExit(ExitCode.ok);
    } catch (e) {
      io.err(`${command}: ${e instanceof Error ? e.message : String(e)}`);
      onExit(exitCodeFor(e));
    }
    return;
  }
  let code: number = ExitCode.ok;
  try {
    await ask(
      stateDir,
      request,
      (raw) => {
        const a = raw as unknown as Doc;
        if (a.type === 'error') {
          io.err(`${command}: ${(a.error as { message?: string } | undefined)?.message ?? 'refused'}`);
          code = ExitCode.usage;
          return;
        }
        print(a);
      },
      () => true,
    );
  } catch (e) {
    io.err(notReachable(command, stateDir, e));
    code = ExitCode.transport;
  }
  onExit(code);
}

/** The manifest for an upload: a file, or made here from the image and its target version. */
export function uploadManifest(file: string, o: { manifest?: string; targetVersion?: string; id?: string }): Doc {
  if ((o.manifest === undefined) === (o.targetVersion === undefined)) throw new DcuError(ErrorCode.Usage, 'give --manifest FILE (the vendor manifest) or --target-version V (the active firmware identifier after the update)');
  if (o.manifest !== undefined) {
    readUserFile(file, 'the image', ErrorCode.Usage); // named here, before the manifest or the daemon
    const text = readUserFile(o.manifest, 'the manifest', ErrorCode.Usage).toString('utf8');
    try {
      return JSON.parse(text) as Doc;
    } catch (e) {
      throw new DcuError(ErrorCode.Usage, `the manifest ${o.manifest} is not JSON (${(e as Error).message})`, { cause: e });
    }
  }
  const bytes = readUserFile(file, 'the image', ErrorCode.Usage);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { id: o.id ?? `img-${sha256.slice(0, 12)}`, version: o.targetVersion, size: bytes.length, sha256 };
}

/** Sends the image over the API (admin) with the bytes sent on the progress line. */
export async function remoteUpload(t: ApiTarget, file: string, manifest: Doc, bar: Progress): Promise<Doc> {
  const data = readUserFile(file, 'the image', ErrorCode.Usage);
  const headers = { [MANIFEST_HEADER]: Buffer.from(JSON.stringify(manifest)).toString('base64url') };
  try {
    return await callJson<Doc>(t, { method: 'POST', path: '/api/v1/firmware/images', upload: { data, type: 'application/octet-stream', headers, onSent: (done) => bar.update({ done, total: data.length, unit: 'bytes' }) } });
  } finally {
    bar.finish();
  }
}

/** --activate now | manual | at ISO (or the ISO instant alone). */
export function activation(words: readonly string[] | undefined): string | undefined {
  if (words === undefined || words.length === 0) return undefined;
  const [first, second] = words;
  if (first === 'now' || first === 'manual') return first;
  const at = first === 'at' ? second : first;
  if (at === undefined || Number.isNaN(Date.parse(at))) throw new DcuError(ErrorCode.Usage, `--activate is now, manual or "at ISO-INSTANT"; got "${words.join(' ')}"`);
  return at;
}

interface CreateOptions {
  image: string;
  meters?: string;
  line?: string;
  all?: boolean;
  priority?: string;
  retries?: string;
  retryInterval?: string;
  deadline?: string;
  window?: string;
  concurrency?: string;
  activate?: string[];
  id?: string;
  state?: string;
}

export function campaignRequest(o: CreateOptions): Doc {
  const int = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n)) throw new DcuError(ErrorCode.Usage, `${flag} must be a whole number; got "${text}"`);
    return n;
  };
  const doc: Doc = {
    cmd: 'fw-campaign-create',
    image: o.image,
    meters: list(o.meters),
    lines: list(o.line),
    all: o.all,
    priority: int('--priority', o.priority),
    retries: int('--retries', o.retries),
    retryInterval: o.retryInterval,
    deadline: o.deadline,
    window: list(o.window),
    concurrency: int('--concurrency', o.concurrency),
    activate: activation(o.activate),
    jobId: o.id, // the socket's own "id" names the request
  };
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined));
}

type Bytes = Parameters<typeof bytesText>[0];

export function statusText(s: Doc): string {
  const meters = (s.meters as Doc[] | undefined) ?? [];
  const counts = Object.entries((s.counts as Record<string, number> | undefined) ?? {}).map(([k, n]) => `${n} ${k}`).join(', ');
  const work = (s.fieldWorkOrder as Doc[] | undefined) ?? [];
  const lines = (s.lines as { line: string; meters: number; bytes: Bytes }[] | undefined) ?? [];
  const b = (m: Doc): NonNullable<Bytes> | undefined => m.bytes as Bytes;
  return [
    `${String(s.campaign)}  image ${String(s.image)}  ${String(s.state)}  deadline ${String(s.deadline)}`,
    counts,
    table(
      ['meter', 'state', 'progress', 'attempts', 'image sent', 'ratio', 'overhead', 'reason', 'detail'],
      meters.map((m) => [
        String(m.meter),
        String(m.state),
        `${String(m.progress)} %`,
        String(m.attempts),
        b(m) === undefined ? '-' : kb(b(m)?.imageBytesSent ?? 0),
        b(m) === undefined ? '-' : `×${(b(m)?.ratio ?? 0).toFixed(3)}`,
        b(m) === undefined ? '-' : kb(b(m)?.overheadBytes ?? 0),
        typeof m.reason === 'string' ? m.reason : '',
        typeof m.detail === 'string' ? m.detail.slice(0, 80) : '',
      ]),
    ),
    ...lines.map((l) => `${l.line}: ${l.meters} meter(s), ${bytesText(l.bytes)}`),
    work.length === 0 ? '' : `field work order: ${work.map((w) => `${String(w.meter)} (${String(w.reason)})`).join(', ')}`,
  ]
    .filter((l) => l !== '')
    .join('\n');
}

export function registerFirmware(program: Command, onExit: (code: number) => void, io: StoreIo): void {
  const fw = program.command('firmware').description('firmware images and update campaigns in the running daemon');
  const fail = (command: string, e: unknown): void => {
    io.err(`${command}: ${e instanceof Error ? e.message : String(e)}`);
    onExit(ExitCode.usage);
  };
  fw.command('upload <file>')
    .description('store an image in the daemon (verified: size, SHA-256, signature); prints the image id')
    .option('--manifest <file>', 'the vendor manifest (JSON: id, version, size, sha256, model, fromVersions, signature, keyId)')
    .option('--target-version <v>', 'no manifest: the active firmware identifier the meters report once updated')
    .option('--id <id>', 'image id with --target-version (default img-<sha256 prefix>)')
    .option(...STATE_OPT)
    .option('--json', 'print the answer as JSON')
    .action(async (file: string, opts: { manifest?: string; targetVersion?: string; id?: string; state?: string; json?: boolean }, cmd: Command) => {
      let manifest;
      try {
        manifest = uploadManifest(file, opts);
      } catch (e) {
        fail('dcu firmware upload', e);
        return;
      }
      const print = (a: Doc): void => {
        const image = a.image as Doc;
        io.out(opts.json === true ? JSON.stringify(a) : String(image.id));
      };
      const remote = remoteOf(cmd, io.env);
      if (remote !== undefined) {
        await runAsync(io, onExit, () => remoteUpload(remote, file, manifest, progressFor('upload', { json: opts.json, env: io.env })).then(print));
        return;
      }
      await call(io, onExit, 'dcu firmware upload', cmd, { cmd: 'fw-upload', file: resolve(file), manifest }, { method: 'POST', path: '/api/v1/firmware/images' }, print);
    });
  fw.command('images')
    .description('the images the daemon holds, with their state')
    .option(...STATE_OPT)
    .option('--json', 'print the answer as JSON')
    .action(async (opts: { state?: string; json?: boolean }, cmd: Command) => {
      await call(io, onExit, 'dcu firmware images', cmd, { cmd: 'fw-images' }, { method: 'GET', path: '/api/v1/firmware/images' }, (a) => {
        const images = (a.images as Doc[] | undefined) ?? [];
        if (opts.json === true) io.out(JSON.stringify(images, null, 2));
        else io.out(table(['image', 'version', 'state', 'size', 'sha256', 'missing chunks'], images.map((i) => [String(i.id), String(i.version), String(i.state), String(i.size), String(i.sha256).slice(0, 16), String((i.missing as unknown[]).length)])));
      });
    });

  const campaign = fw.command('campaign').description('firmware update campaigns: create, status, list, cancel, retry, activate');
  campaign
    .command('create')
    .description('update meters with an image; prints the campaign id')
    .requiredOption('--image <id>', 'the image id (dcu firmware images)')
    .option('--meters <serials>', 'comma-separated serial numbers')
    .option('--line <name>', 'every meter of this line (comma-separated for several)')
    .option('--all', 'every registered meter')
    .option('--priority <n>', 'order between campaigns, 0..9 (default 5)')
    .option('--retries <n>', 'attempts after a failed one (default 5)')
    .option('--retry-interval <duration>', 'first pause before a retry, doubling (default 30m)')
    .option('--deadline <when>', 'duration (3d) or ISO instant (default 7d)')
    .option('--window <list>', 'daily windows the transfer may use, e.g. 22:00-06:00')
    .option('--concurrency <n>', 'meters at once per line (default the line capacity)')
    .option('--activate <policy...>', 'now (default), manual, or at ISO-INSTANT')
    .option('--id <id>', 'campaign id (a re-sent request with the same id is the same campaign)')
    .option(...STATE_OPT)
    .action(async (opts: CreateOptions, cmd: Command) => {
      let request;
      try {
        request = campaignRequest(opts);
      } catch (e) {
        fail('dcu firmware campaign create', e);
        return;
      }
      // the API body is the fw-campaign-create body: the campaign id is "id" there
      const body = Object.fromEntries(Object.entries(request).filter(([k]) => k !== 'cmd' && k !== 'jobId'));
      const api: Call = { method: 'POST', path: '/api/v1/firmware/campaigns', body: { ...body, ...(request.jobId === undefined ? {} : { id: request.jobId }) } };
      await call(io, onExit, 'dcu firmware campaign create', cmd, request, api, (a) => io.out(`${String(a.campaign)}${a.created === false ? ' (exists already)' : ''}: ${String(a.meters)} meter(s)`));
    });
  campaign
    .command('list')
    .description('the campaigns with their state')
    .option(...STATE_OPT)
    .option('--json', 'print the answer as JSON')
    .action(async (opts: { state?: string; json?: boolean }, cmd: Command) => {
      await call(io, onExit, 'dcu firmware campaign list', cmd, { cmd: 'fw-campaigns' }, { method: 'GET', path: '/api/v1/firmware/campaigns' }, (a) => {
        const cs = (a.campaigns as Doc[] | undefined) ?? [];
        io.out(opts.json === true ? JSON.stringify(cs, null, 2) : table(['campaign', 'image', 'state', 'deadline', 'created'], cs.map((c) => [c.campaign, c.image, c.state, c.deadline, c.createdAt].map(String))));
      });
    });
  campaign
    .command('status <id>')
    .description("a campaign's meters: state, progress, attempts, bytes on the line, reasons, field work order (with --host: a remote box)")
    .option(...STATE_OPT)
    .option('--json', 'print the answer as JSON (with --watch: one document per change, NDJSON)')
    .option('--watch', 'follow the campaign until it ends: progress redrawn every second on a terminal, a line per change otherwise; exit 5 when a meter ends KO')
    .action(async (id: string, opts: { state?: string; json?: boolean; watch?: boolean }, cmd: Command) => {
      await campaignStatus(id, opts, cmd, io, onExit);
    });
  for (const [name, socketCmd, what] of [
    ['cancel', 'fw-campaign-cancel', 'cancel a campaign (meters not done end KO cancelled)'],
    ['retry', 'fw-campaign-retry', 'queue the KO meters again'],
    ['activate', 'fw-campaign-activate', 'activate now the meters of a campaign created with --activate manual'],
  ] as const) {
    campaign
      .command(`${name} <id>`)
      .description(what)
      .option(...STATE_OPT)
      .option('--json', 'print the answer as JSON')
      .action(async (id: string, opts: { state?: string; json?: boolean }, cmd: Command) => {
        await call(io, onExit, `dcu firmware campaign ${name}`, cmd, { cmd: socketCmd, campaign: id }, { method: 'POST', path: `/api/v1/firmware/campaigns/${encodeURIComponent(id)}/${name}` }, (a) => {
          if (opts.json === true) io.out(JSON.stringify(a.status, null, 2));
          else io.out(`${name === 'retry' ? `${String(a.queued)} meter(s) queued again\n` : ''}${statusText(a.status as Doc)}`);
        });
      });
  }
}

/** `campaign status ID [--json] [--watch]`, on the box (socket) or with --host (the API). */
async function campaignStatus(id: string, opts: { state?: string; json?: boolean; watch?: boolean }, cmd: Command, io: StoreIo, onExit: (code: number) => void): Promise<void> {
  const command = 'dcu firmware campaign status';
  let fetch: () => Promise<Doc>;
  try {
    const remote = remoteOf(cmd, io.env);
    const stateDir = stateDirOf(cmd.optsWithGlobals<{ state?: string }>(), io.env);
    fetch = remote !== undefined ? () => callJson<Doc>(remote, { method: 'GET', path: `/api/v1/firmware/campaigns/${encodeURIComponent(id)}` }) : () => localStatus(stateDir, id, command);
  } catch (e) {
    io.err(`${command}: ${e instanceof Error ? e.message : String(e)}`);
    onExit(exitCodeFor(e));
    return;
  }
  if (opts.watch === true) {
    const tty = process.stdout.isTTY && opts.json !== true;
    const code = await watchCampaign(
      { fetch, tty, json: opts.json === true, intervalMs: 1000, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now(), rows: process.stdout.rows, columns: process.stdout.columns },
      { out: io.out, err: (t) => io.err(`${command}: ${t}`), write: (t) => process.stdout.write(t) },
    );
    onExit(code);
    return;
  }
  try {
    const s = await fetch();
    io.out(opts.json === true ? JSON.stringify(s, null, 2) : statusText(s));
    onExit(ExitCode.ok);
  } catch (e) {
    io.err(`${command}: ${e instanceof Error ? e.message : String(e)}`);
    onExit(exitCodeFor(e));
  }
}

/** One fw-campaign-status through the daemon's socket: the status, or a typed error (refused: command layer; not reachable: transport). */
async function localStatus(stateDir: string, id: string, command: string): Promise<Doc> {
  let answer: Doc | undefined;
  try {
    await ask(stateDir, { cmd: 'fw-campaign-status', campaign: id }, (a) => (answer = a as unknown as Doc), () => true);
  } catch (e) {
    throw new DcuError(ErrorCode.TransportOpenFailed, notReachable(command, stateDir, e).replace(`${command}: `, ''), { cause: e });
  }
  if (answer === undefined) throw new DcuError(ErrorCode.TransportClosed, `the daemon on ${stateDir} closed the socket without answering: is it stopping? try again`);
  if (answer.type === 'error') throw new DcuError(ErrorCode.Usage, (answer.error as { message?: string } | undefined)?.message ?? 'refused');
  return answer.status as Doc;
}
