/**
 * The one-command demo (`npm start`): dcud as it runs on a box, with everything around it
 * simulated — meters on emulated serial lines (socat ptys) and over TCP, capturing every
 * minute; the HES broker (mosquitto) behind a WAN link the newcomer can cut; a HES console
 * printing what arrives. State lives in a temporary directory removed at the end.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from '../../../common/render';
import { parseFleetConfig } from '../../config';
import { startFleet, type RunningFleet } from '../../fleet';
import { startBroker, stopChild, type DemoBroker } from './broker';
import { demoSocketPath } from '../../../common/demo-paths';
import { startControl, type Control } from './control';
import { startHesConsole, type HesConsole } from './hes-console';
import { startWan, type Wan } from './wan';

export const DEMO_ID = 'demo';
const DCUD = join(__dirname, '..', '..', '..', 'daemon', 'bin', 'dcud.js');

export interface DemoOptions {
  readonly serialMeters: number;
  readonly tcpMeters: number;
  readonly lines: number;
  readonly baud: number;
}

export interface Demo {
  readonly wanUp: boolean;
  setWan(up: boolean): void;
  stop(): Promise<void>;
}

/** A fleet with TCP endpoints needs consecutive free ports: try a few random bases. */
async function fleetWithPorts(o: DemoOptions, dir: string): Promise<RunningFleet> {
  const meters = o.serialMeters + o.tcpMeters;
  for (let attempt = 0; ; attempt++) {
    const base = o.tcpMeters === 0 ? undefined : 20_000 + Math.floor(Math.random() * 30_000);
    try {
      return await startFleet(parseFleetConfig({ meters, serialLines: o.lines, ...(base === undefined ? {} : { tcpBasePort: base }), baud: o.baud, latencyMs: 20, capturePeriodS: 60, ptyDir: join(dir, 'pty') }, 'demo'));
    } catch (e) {
      if (attempt >= 4 || !/EADDRINUSE/.test(String(e))) throw e;
    }
  }
}

function dcudConfig(dir: string, fleet: RunningFleet, o: DemoOptions, mqttPort: number): string {
  const serial = fleet.endpoints.slice(0, o.serialMeters);
  const tcp = fleet.endpoints.slice(o.serialMeters);
  return [
    `id: ${DEMO_ID}`,
    `stateDir: ${join(dir, 'state')}`,
    'lines:',
    ...fleet.lines.map((l) => `  - { name: plc${l.index}, serial: { path: "${l.device}", baud: ${o.baud} }, timeout: 2s }`),
    ...(tcp.length > 0 ? ['  - { name: ip, tcp: { concurrency: 4 }, timeout: 2s }'] : []),
    'meters:',
    ...serial.map((m) => `  - { serial: ${m.serial}, line: plc${m.line?.index ?? 0}, address: "${m.logicalDevice}/${m.physicalAddress}", client: 17, auth: low, password: "00000000" }`),
    ...tcp.map((m) => `  - { serial: ${m.serial}, line: ip, address: "127.0.0.1:${m.tcp?.port ?? 0}", client: 17, auth: low, password: "00000000" }`),
    'collection:',
    '  load-profile: { every: 1m, backfill: 2h }',
    '  registers: { every: 1m }',
    '  daily: { every: 1h, backfill: 7d }',
    `mqtt: { url: "mqtt://127.0.0.1:${mqttPort}", reconnectMin: 1s, reconnectMax: 3s, retryMin: 1s, retryMax: 5s, keepalive: 10s }`,
    '',
  ].join('\n');
}

/** What the demo shows of dcud's JSON log: cycles, start/stop, warnings. */
function dcudLine(json: string): string | undefined {
  let r: { level?: number; msg?: string; classes?: string[]; meters?: number; exe?: number; warn?: number; fail?: number; err?: string; meter?: string; reason?: string };
  try {
    r = JSON.parse(json) as typeof r;
  } catch {
    return json.trim() === '' ? undefined : `dcud: ${json.trim()}`;
  }
  if (r.msg === 'collection cycle done') return `dcud: read ${r.meters ?? 0} meters (${(r.classes ?? []).join(', ')}): ${r.exe ?? 0} EXE, ${r.warn ?? 0} WARN, ${r.fail ?? 0} FAIL`;
  if (r.msg === 'dcud started' || r.msg === 'dcud stopping') return `dcud: ${r.msg.slice(5)}`;
  if ((r.level ?? 0) >= 40) return `dcud ${(r.level ?? 0) >= 50 ? 'error' : 'warning'}: ${r.msg ?? ''}${r.meter === undefined ? '' : ` (${r.meter})`}${r.err === undefined && r.reason === undefined ? '' : `: ${r.err ?? r.reason ?? ''}`}`;
  return undefined;
}

export async function startDemo(o: DemoOptions, print: (line: string) => void): Promise<Demo> {
  const dir = mkdtempSync(join(tmpdir(), 'dcu-demo-'));
  let fleet: RunningFleet | undefined;
  let broker: DemoBroker | undefined;
  let wan: Wan | undefined;
  let hes: HesConsole | undefined;
  let dcud: ChildProcess | undefined;
  let monitor: NodeJS.Timeout | undefined;
  let db: Database.Database | undefined;
  let control: Control | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (monitor !== undefined) clearInterval(monitor);
      await control?.close();
      db?.close();
      // dcud first: it finishes the request in flight, releases associations, says offline
      if (dcud !== undefined) await stopChild(dcud, 'SIGTERM', 20_000);
      await hes?.close().catch(() => undefined);
      await wan?.close();
      await broker?.stop();
      await fleet?.stop();
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    fleet = await fleetWithPorts(o, dir);
    broker = await startBroker(dir);
    wan = await startWan(broker.port);
    const config = join(dir, 'dcu.yaml');
    writeFileSync(config, dcudConfig(dir, fleet, o, wan.port));
    print(`dcu demo — dcud reading ${o.serialMeters + o.tcpMeters} simulated meters (a capture every minute), sending to a HES over MQTT`);
    for (const l of fleet.lines) {
      const on = fleet.endpoints.slice(0, o.serialMeters).filter((m) => m.line?.index === l.index);
      print(`  line plc${l.index}: ${l.device} (socat pty, ${o.baud} baud): ${on.map((m) => `${m.serial} @${m.physicalAddress}`).join(', ')}`);
    }
    const tcp = fleet.endpoints.slice(o.serialMeters);
    if (tcp.length > 0) print(`  line ip: ${tcp.map((m) => `${m.serial} @127.0.0.1:${m.tcp?.port ?? 0}`).join(', ')}`);
    print(`  HES broker: mosquitto on 127.0.0.1:${broker.port}; dcud reaches it over the WAN link 127.0.0.1:${wan.port}`);
    print(`  state: ${join(dir, 'state')} (removed at the end); dcud's full log: ${join(dir, 'dcud.log')}`);
    hes = await startHesConsole(`mqtt://127.0.0.1:${broker.port}`, DEMO_ID, print);
    print(`  HES console: subscribed to dcu/${DEMO_ID}/#`);
    const log = createWriteStream(join(dir, 'dcud.log'));
    const child = spawn(process.execPath, [DCUD, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    dcud = child;
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      log.write(d);
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) {
        const shown = dcudLine(l);
        if (shown !== undefined) print(shown);
        if (l.includes('"collection cycle done"') && !tabled) showMeters();
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      log.write(d);
      for (const l of d.toString().split('\n')) if (l.trim() !== '') print(`dcud: ${l.trim()}`);
    });
    child.once('exit', (code, signal) => {
      if (stopped === undefined) print(`dcud exited (${code ?? signal ?? '?'}) — see ${join(dir, 'dcud.log')}`);
    });

    const store = (): Database.Database | undefined => {
      try {
        db ??= new Database(join(dir, 'state', 'dcu.sqlite'), { readonly: true, fileMustExist: true });
        return db;
      } catch {
        return undefined;
      }
    };
    // the old demo's summary: one table of the meters once the first cycle is in
    let tabled = false;
    const showMeters = (): void => {
      const s = store();
      if (s === undefined) return;
      tabled = true;
      try {
        const rows = s.prepare<[], { serial: string; line: string; address: string; stage: string; reachability: string; a: string | null; unit: string | null; lp: number }>(
          `SELECT m.serial, m.line, m.address, m.stage, m.reachability,
             (SELECT value FROM register_values r WHERE r.meter = m.serial AND r.name = '+A' ORDER BY read_at DESC LIMIT 1) AS a,
             (SELECT unit FROM register_values r WHERE r.meter = m.serial AND r.name = '+A' ORDER BY read_at DESC LIMIT 1) AS unit,
             (SELECT count(*) FROM profile_rows p WHERE p.meter = m.serial) AS lp
           FROM meters m ORDER BY m.serial`,
        ).all();
        print(table(['meter', 'line', 'address', 'state', '+A', 'LP rows'], rows.map((r) => [r.serial, r.line, r.address, `${r.stage}/${r.reachability}`, r.a === null ? '-' : r.unit === 'Wh' ? `${(Number(r.a) / 1000).toFixed(3)} kWh` : `${r.a} ${r.unit ?? ''}`, String(r.lp)])));
      } catch (e) {
        print(`(meter table unavailable: ${e instanceof Error ? e.message : String(e)})`);
      }
    };
    // the outbox while the WAN is down, and until it has drained
    let watching = false;
    let last = -1;
    monitor = setInterval(() => {
      if (!watching) return;
      const s = store();
      if (s === undefined) return;
      let byStream: { stream: string; n: number }[];
      try {
        byStream = s.prepare<[], { stream: string; n: number }>('SELECT stream, count(*) AS n FROM outbox GROUP BY stream ORDER BY stream').all();
      } catch {
        return;
      }
      const total = byStream.reduce((a, r) => a + r.n, 0);
      if (total !== last) print(`outbox: ${total} messages waiting${total > 0 ? ` (${byStream.map((r) => `${r.stream} ${r.n}`).join(', ')})` : ''}`);
      last = total;
      if (total === 0 && wan?.up === true) {
        print('outbox drained: the HES has everything, in order');
        watching = false;
      }
    }, 1000);
    const link = wan;
    const setWan = (up: boolean): void => {
      if (up === link.up) return;
      if (up) {
        link.restore();
        print('WAN up: dcud reconnects and sends the backlog in order');
      } else {
        link.cut();
        print('WAN down: readings go on into the store; the outbox grows');
      }
      watching = true;
      last = -1;
    };
    control = await startControl(demoSocketPath(), (line) => {
      if (line === 'wan down' || line === 'wan up') {
        setWan(line === 'wan up');
        return `WAN ${link.up ? 'up' : 'down'}`;
      }
      return `unknown command "${line}": wan down, wan up`;
    });
    print(control.path === undefined ? '  (another demo owns the control socket: use the keys here)' : `  from another terminal: dcu demo wan down|up (socket ${control.path})`);
    return {
      get wanUp() {
        return link.up;
      },
      setWan,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
