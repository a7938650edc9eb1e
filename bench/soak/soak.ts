/**
 * The soak: dcud (child process, built dist/) collects a simulated fleet (dcu-sim, TCP meters
 * on loopback) and drains it to a real mosquitto with appAck, and is killed with SIGKILL at
 * random moments — during start-up, collection and drain — `kills` times, with a broker outage
 * (mosquitto killed, restarted on the same port) every `outageEvery`-th run. A last run is let
 * finish: the whole backfill stored and the outbox empty. A HES in this process receives and
 * acknowledges every message.
 *
 * What it measures, from the HES's messages and the store (only loopback traffic):
 * - streams contiguous: per stream, every seq the store ever gave (1 .. next_seq − 1) reached
 *   the HES or is still in the outbox; a missing one is a gap;
 * - values stored and never delivered: profile cells in the store whose row reached the HES in
 *   no message and waits in no outbox row;
 * - duplicates by id: messages the HES got again under an id it had (re-sent after a kill;
 *   expected with at-least-once, reported);
 * - ids reused: an envelope id, or a (stream, seq), that came with other content than before,
 *   or a stream's next seq in the store going back between runs;
 * - integrity_check of the store at the end (quick_check after every kill).
 */
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '../../sim/prng';
import { freePortBlock } from '../../test/helpers/ports';
import { startMosquitto, type Mosquitto } from '../../test/helpers/mosquitto';

export interface SoakOptions {
  /** SIGKILLs of dcud (default 10). */
  readonly kills?: number;
  /** Simulated meters (default 8). */
  readonly meters?: number;
  /** Hours of 1-minute load profile each meter has to deliver (default 4). */
  readonly backfillHours?: number;
  /** A broker outage in every n-th run (default 4; 0: none). */
  readonly outageEvery?: number;
  readonly seed?: number;
  /**
   * Test of the soak itself: remove the store after this kill (a rebuilt store, as a failed
   * disk or a wrong restore would leave it), so the seqs start again.
   */
  readonly removeStoreAfterKill?: number;
  /** Whole run, wall clock (default 14 min): over it the soak stops and fails. */
  readonly deadlineMs?: number;
  readonly log?: (line: string) => void;
}

export interface StreamFigure {
  readonly stream: string;
  /** Seqs the store gave (1 .. last). */
  readonly last: number;
  readonly delivered: number;
  readonly pending: number;
  readonly gaps: number;
}

export interface SoakReport {
  readonly kills: number;
  /** Kills right after a new message was stored, right after the HES got one, at a random time. */
  readonly moments: { readonly collection: number; readonly drain: number; readonly startup: number };
  readonly outages: number;
  readonly seconds: number;
  readonly streams: readonly StreamFigure[];
  readonly gaps: number;
  readonly valuesStored: number;
  readonly valuesDelivered: number;
  readonly valuesLost: number;
  readonly rowsStored: number;
  readonly messages: number;
  readonly duplicatesById: number;
  readonly idsReused: number;
  readonly reuse: readonly string[];
  /**
   * Most id namespaces (the envelope id without its trailing `/<seq>`) one stream came
   * under: more than 1 when the daemon started a new store incarnation (a rebuilt store).
   */
  readonly incarnations: number;
  readonly integrity: string;
  readonly ok: boolean;
}

/** dist/ (built): next to us when this runs from dist/bench/soak, else the repository's. */
function distDir(): string {
  const here = join(__dirname, '..', '..');
  return existsSync(join(here, 'daemon', 'bin', 'dcud.js')) ? here : join(here, 'dist');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(pred: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`soak: timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface SimMeter {
  readonly serial: string;
  readonly tcp?: { host: string; port: number };
}

function readStore<T>(file: string, f: (db: Database.Database) => T, fallback: T): T {
  if (!existsSync(file)) return fallback;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return f(db);
  } catch {
    return fallback; // the schema is not there yet (killed during the first start)
  } finally {
    db?.close();
  }
}

/** The HES: receives every stream message, acknowledges it (appAck), remembers what came. */
class Hes {
  readonly byId = new Map<string, string>();
  readonly items = new Map<string, string>();
  /** stream → seqs received. */
  readonly seqs = new Map<string, Set<number>>();
  /** `${meter} ${profile} ${capturedAt}` of every delivered profile row. */
  readonly rows = new Set<string>();
  readonly reuse: string[] = [];
  /** stream → id namespaces seen (the id without its seq: `<dcu>/<class>` today). */
  readonly namespaces = new Map<string, Set<string>>();
  messages = 0;
  duplicates = 0;

  constructor(
    private readonly client: MqttClient,
    private readonly prefix: string,
  ) {
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  private onMessage(topic: string, payload: Buffer): void {
    let body: { id?: unknown; class?: unknown; items?: unknown };
    try {
      body = JSON.parse(payload.toString()) as typeof body;
    } catch {
      return;
    }
    if (typeof body.id !== 'string' || typeof body.class !== 'string' || !Array.isArray(body.items) || !topic.startsWith(this.prefix)) return;
    this.messages++;
    const stream = body.class;
    const items = body.items as { seq: number; meter?: string; profile?: string; rows?: unknown[][] }[];
    const text = JSON.stringify(items);
    const before = this.byId.get(body.id);
    if (before !== undefined) {
      this.duplicates++;
      if (before !== text) this.reuse.push(`id ${body.id} came with other items`);
    } else this.byId.set(body.id, text);
    const got = this.seqs.get(stream) ?? new Set<number>();
    this.seqs.set(stream, got);
    const namespace = body.id.replace(/\/\d+$/, '');
    const spaces = this.namespaces.get(stream) ?? new Set<string>();
    spaces.add(namespace);
    this.namespaces.set(stream, spaces);
    for (const item of items) {
      const key = `${namespace}/${item.seq}`;
      const itemText = JSON.stringify(item);
      const had = this.items.get(key);
      if (had !== undefined && had !== itemText) this.reuse.push(`${key} came with other content`);
      if (had === undefined) this.items.set(key, itemText);
      got.add(item.seq);
      if (typeof item.meter === 'string' && typeof item.profile === 'string' && Array.isArray(item.rows)) {
        for (const r of item.rows) this.rows.add(`${item.meter} ${item.profile} ${String(r[0])}`);
      }
    }
    // Cumulative ack: the highest seq with no gap below it (again when a message comes again).
    let upTo = 0;
    while (got.has(upTo + 1)) upTo++;
    if (upTo > 0) this.client.publish(`${this.prefix}ack`, JSON.stringify({ stream, seq: upTo }), { qos: 1 });
  }
}

export async function runSoak(o: SoakOptions = {}): Promise<SoakReport> {
  const kills = o.kills ?? 10;
  const meterCount = o.meters ?? 8;
  const backfillHours = o.backfillHours ?? 4;
  const outageEvery = o.outageEvery ?? 4;
  const deadline = Date.now() + (o.deadlineMs ?? 14 * 60_000);
  const log = o.log ?? (() => undefined);
  const random = createRng(o.seed ?? 20261208).next;
  const dist = distDir();
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'dcu-soak-'));
  const id = 'soak';
  let sim: ChildProcess | undefined;
  let broker: Mosquitto | undefined;
  let client: MqttClient | undefined;
  const children = new Set<ChildProcess>();
  try {
    broker = await startMosquitto();
    const base = await freePortBlock(meterCount);
    const s = spawn(process.execPath, [join(dist, 'sim', 'cli', 'dcu-sim.js'), '--meters', String(meterCount), '--tcp', String(base), '--latency', '2', '--jitter', '2', '--capture-period', '60', '--profile-days', '1', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    sim = s;
    let simOut = '';
    s.stdout.on('data', (d: Buffer) => (simOut += d.toString()));
    let meters: SimMeter[] = [];
    await until(() => {
      try {
        meters = (JSON.parse(simOut) as { meters: SimMeter[] }).meters;
        return true;
      } catch {
        return false;
      }
    }, 'dcu-sim to print its endpoints', 60_000);

    const prefix = `dcu/${id}/`;
    client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'soak-hes', reconnectPeriod: 200, clean: true });
    const hes = new Hes(client, prefix);
    await client.subscribeAsync(`${prefix}#`, { qos: 1 });

    const state = join(dir, 'state');
    mkdirSync(state, { recursive: true });
    const store = join(state, 'dcu.sqlite');
    const file = join(dir, 'dcu.yaml');
    writeFileSync(
      file,
      [
        `id: ${id}`,
        `stateDir: ${state}`,
        `mqtt: { url: "${broker.url}", encoding: json, appAck: true, appAckTimeout: 3s, window: 4, maxMessageBytes: 8192, reconnectMin: 100ms, reconnectMax: 1s, retryMin: 100ms, retryMax: 1s, keepalive: 10s }`,
        'lines:',
        '  - { name: ip, tcp: { concurrency: 4 }, timeout: 2s }',
        'meters:',
        ...meters.map((m) => `  - { serial: ${m.serial}, line: ip, address: "127.0.0.1:${m.tcp?.port ?? 0}", client: 17, auth: low, password: "00000000" }`),
        'collection:',
        `  load-profile: { every: 1m, backfill: ${backfillHours}h }`,
        '  clock: { every: 1d, enabled: false }',
        '  registers: { every: 1m }',
        '  daily: { every: 1d, enabled: false }',
        '  billing: { every: 1d, enabled: false }',
        '  events: { every: 1m }',
        '  alarms: { every: 1d, enabled: false }',
        '',
      ].join('\n'),
    );

    const nextSeqs = (): Map<string, number> => new Map(readStore(store, (db) => (db.prepare('SELECT stream, next_seq FROM outbox_streams').all() as { stream: string; next_seq: number }[]).map((r) => [r.stream, r.next_seq] as const), []));
    const seen = new Map<string, number>();
    const wentBack: { stream: string; from: number; to: number }[] = [];
    const checkSeqs = (): void => {
      for (const [stream, next] of nextSeqs()) {
        const before = seen.get(stream) ?? 0;
        if (next < before && !wentBack.some((w) => w.stream === stream)) wentBack.push({ stream, from: before, to: next });
        seen.set(stream, Math.max(before, next));
      }
    };
    let quick = 'ok';
    let output = '';
    const spawnDcud = (): { child: ChildProcess; exited: Promise<string> } => {
      const child = spawn(process.execPath, [join(dist, 'daemon', 'bin', 'dcud.js'), '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
      child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
      const exited = new Promise<string>((resolve) =>
        child.on('close', (code, signal) => {
          children.delete(child);
          resolve(signal ?? String(code));
        }),
      );
      return { child, exited };
    };
    const rowsStored = (): number => readStore(store, (db) => (db.prepare('SELECT count(*) AS n FROM profile_rows').get() as { n: number }).n, 0);
    const outboxLeft = (): number => readStore(store, (db) => (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n, -1);

    const totalSeqs = (): number => [...nextSeqs().values()].reduce((n, v) => n + v, 0);
    /** Resolves when `pred` holds or after `ms` (the kill comes then anyway). */
    const soon = async (pred: () => boolean, ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (!pred() && Date.now() < end) await sleep(25);
    };
    let outages = 0;
    const moments = { startup: 0, collection: 0, drain: 0 };
    for (let k = 0; k < kills; k++) {
      if (Date.now() > deadline) throw new Error(`soak: over the deadline after ${k} kills`);
      const messages = hes.messages;
      const seqs = totalSeqs();
      const { child, exited } = spawnDcud();
      // The kill moment: right after this process stored a new message (collection), right
      // after the HES got one from it (drain), or at a random time (start-up, anything).
      const kind = (['collection', 'drain', 'startup'] as const)[k % 3] ?? 'startup';
      if (kind === 'collection') await soon(() => totalSeqs() > seqs, 30_000);
      else if (kind === 'drain') await soon(() => hes.messages > messages, 30_000);
      else await sleep(200 + Math.floor(random() * 2500));
      if (outageEvery > 0 && k % outageEvery === outageEvery - 1) {
        // The broker goes away while dcud collects and drains, comes back, then the kill.
        await broker.stop();
        outages++;
        await sleep(300 + Math.floor(random() * 1200));
        await broker.start();
        const after = hes.messages;
        await soon(() => hes.messages > after, 5_000);
      } else await sleep(Math.floor(random() * 400));
      moments[kind]++;
      child.kill('SIGKILL');
      const how = await exited;
      if (how !== 'SIGKILL') throw new Error(`soak: dcud ended (${how}) before its kill ${k + 1}:\n${output.slice(-3000)}`);
      checkSeqs();
      const q = readStore(store, (db) => String(db.pragma('quick_check', { simple: true })), 'ok');
      if (q !== 'ok') quick = `after kill ${k + 1}: ${q}`;
      if (o.removeStoreAfterKill === k + 1) for (const f of ['', '-wal', '-shm']) rmSync(`${store}${f}`, { force: true });
      if ((k + 1) % 10 === 0 || k + 1 === kills) log(`  ${k + 1} kills, ${outages} outages, ${rowsStored()} rows stored, ${hes.messages} messages at the HES`);
    }

    // The last run finishes: the whole backfill stored, every message out and acknowledged.
    const expectedRows = meterCount * backfillHours * 60;
    const { child, exited } = spawnDcud();
    try {
      await until(() => rowsStored() >= expectedRows && outboxLeft() === 0, `the backfill (${expectedRows} rows) stored and the outbox empty (${rowsStored()} rows, ${outboxLeft()} in the outbox)`, Math.max(60_000, deadline - Date.now()));
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${output.slice(-3000)}`);
    } finally {
      child.kill('SIGTERM');
    }
    await exited;
    checkSeqs();
    await sleep(200); // acks in flight
    // A stream's seqs given again count as reuse unless its ids changed namespace (a new store incarnation).
    for (const w of wentBack) if ((hes.namespaces.get(w.stream)?.size ?? 0) <= 1) hes.reuse.push(`stream ${w.stream}: the store's next seq went back from ${w.from} to ${w.to} under the same ids`);
    return figures({ hes, store, kills, outages, moments, seconds: (Date.now() - started) / 1000, quick });
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await client?.endAsync(true);
    if (sim !== undefined) {
      const gone = new Promise((r) => sim?.on('close', r));
      sim.kill('SIGTERM');
      await gone;
    }
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function figures(a: { hes: Hes; store: string; kills: number; outages: number; moments: SoakReport['moments']; seconds: number; quick: string }): SoakReport {
  const { hes, store } = a;
  const db = new Database(store, { readonly: true, fileMustExist: true });
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    const pendingSeqs = new Map<string, Set<number>>();
    const pendingRows = new Set<string>();
    for (const r of db.prepare('SELECT stream, seq, payload FROM outbox').all() as { stream: string; seq: number; payload: string }[]) {
      const set = pendingSeqs.get(r.stream) ?? new Set<number>();
      set.add(r.seq);
      pendingSeqs.set(r.stream, set);
      const p = JSON.parse(r.payload) as { meter?: string; profile?: string; rows?: unknown[][] };
      if (typeof p.meter === 'string' && Array.isArray(p.rows)) for (const row of p.rows) pendingRows.add(`${p.meter} ${p.profile ?? ''} ${String(row[0])}`);
    }
    const streams: StreamFigure[] = [];
    for (const { stream, next_seq } of db.prepare('SELECT stream, next_seq FROM outbox_streams ORDER BY stream').all() as { stream: string; next_seq: number }[]) {
      const got = hes.seqs.get(stream) ?? new Set<number>();
      const pending = pendingSeqs.get(stream) ?? new Set<number>();
      let gaps = 0;
      for (let seq = 1; seq < next_seq; seq++) if (!got.has(seq) && !pending.has(seq)) gaps++;
      streams.push({ stream, last: next_seq - 1, delivered: got.size, pending: pending.size, gaps });
    }
    let valuesStored = 0;
    let valuesDelivered = 0;
    let valuesLost = 0;
    let rowsStored = 0;
    for (const r of db.prepare('SELECT meter, profile, captured_at, cells FROM profile_rows').iterate() as Iterable<{ meter: string; profile: string; captured_at: number; cells: string }>) {
      const values = (JSON.parse(r.cells) as unknown[]).length;
      const key = `${r.meter} ${r.profile} ${r.captured_at}`;
      rowsStored++;
      valuesStored += values;
      if (hes.rows.has(key)) valuesDelivered += values;
      else if (!pendingRows.has(key)) valuesLost += values;
    }
    const gaps = streams.reduce((n, s) => n + s.gaps, 0);
    const integrityText = a.quick === 'ok' ? integrity : `${integrity}; quick_check ${a.quick}`;
    return {
      kills: a.kills,
      moments: a.moments,
      outages: a.outages,
      seconds: a.seconds,
      streams,
      gaps,
      valuesStored,
      valuesDelivered,
      valuesLost,
      rowsStored,
      messages: hes.messages,
      duplicatesById: hes.duplicates,
      idsReused: hes.reuse.length,
      reuse: hes.reuse.slice(0, 20),
      incarnations: Math.max(1, ...[...hes.namespaces.values()].map((n) => n.size)),
      integrity: integrityText,
      ok: gaps === 0 && valuesLost === 0 && hes.reuse.length === 0 && integrityText === 'ok' && valuesStored > 0,
    };
  } finally {
    db.close();
  }
}

export function formatSoak(r: SoakReport): string[] {
  return [
    `soak: ${r.kills} kills -9 (${r.moments.collection} during collection, ${r.moments.drain} during drain, ${r.moments.startup} at random moments), ${r.outages} broker outages, ${r.seconds.toFixed(0)} s`,
    `  streams contiguous: ${r.gaps === 0 ? 'yes' : 'NO'} (${r.gaps} gaps): ${r.streams.map((s) => `${s.stream} 1..${s.last}${s.pending > 0 ? ` (${s.pending} still in the outbox)` : ''}`).join(', ')}`,
    `  values stored: ${r.valuesStored} (${r.rowsStored} profile rows); delivered: ${r.valuesDelivered}; stored and never delivered: ${r.valuesLost} lost`,
    `  messages at the HES: ${r.messages}; duplicates by id: ${r.duplicatesById} (re-sent after a kill or an outage, same items)`,
    `  ids reused: ${r.idsReused}${r.reuse.length > 0 ? ` — ${r.reuse.join('; ')}` : ''}${r.incarnations > 1 ? ` (ids came under ${r.incarnations} namespaces: a new store incarnation)` : ''}`,
    `  integrity_check: ${r.integrity}`,
    r.ok ? '  OK: 0 gaps, 0 lost, 0 ids reused' : '  FAILED',
  ];
}
