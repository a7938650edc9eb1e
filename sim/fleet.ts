/**
 * A fleet of simulated meters: N meters spread over K serial lines (socat ptys, physical
 * addresses from 16 on each line) and/or one loopback TCP port per meter. Meters are created
 * on first use and restored from the state directory then; their snapshots are saved
 * periodically and on stop. `startFleet` is what dcu-sim and the start-up benchmark call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScaledClock, systemClock, type Clock, type TimerHandle } from '../protocol/common/clock';
import { isDcuError } from '../protocol/common/errors';
import type { Logger } from '../protocol/common/log';
import { nullLogger } from '../protocol/common/log';
import { SerialTransport } from '../protocol/transport/serial';
import type { ByteTransport } from '../protocol/transport/types';
import { meterSerial, type FleetConfig, type MeterReplacement } from './config';
import { FaultInjector, mergeFaults, schedulePowerCuts, type FaultSpec } from './faults';
import { SimLine, type SimLineStats } from './line';
import { defaultMeterFactory } from './meter-factory';
import { SIM_HOST, SimTcpEndpoint, type TcpFraming } from './network';
import { createRng, deriveSeed } from './prng';
import { createSimPty, type SimPty } from './pty';
import { MeterSlot } from './slot';
import { SimPushSender } from './push';
import { StateStore } from './state';
import type { ClientCredential, SimMeterFactory, SimMeterLike, SimMeterSpec } from './types';

export interface FleetDeps {
  /** Link time: latency, pacing, faults (default: system clock). */
  readonly clock?: Clock;
  /** Meter time (default: system time, `speed` times faster). */
  readonly meterClock?: Clock;
  readonly meterFactory?: SimMeterFactory;
  readonly log?: Logger;
  /** Opens the meter side of a line (default: SerialTransport at the line's baud rate). */
  readonly openLinePort?: (path: string, baud: number) => ByteTransport;
  readonly createPty?: (clientPath: string, simPath: string) => Promise<SimPty>;
  /** Pacing granularity of the serial lines (default 10 ms; see PacedTransmitter). */
  readonly pacingTickMs?: number;
}

export interface LineEndpoint {
  readonly index: number;
  readonly name: string;
  /** What the client opens (a symlink to /dev/pts/N). */
  readonly device: string;
  readonly baud: number;
  readonly meters: number;
  readonly firstPhysicalAddress: number;
  readonly lastPhysicalAddress: number;
}

export interface MeterEndpoint {
  readonly index: number;
  readonly serial: string;
  readonly logicalDevice: number;
  readonly physicalAddress: number;
  readonly line?: {
    readonly index: number;
    readonly device: string;
    /** Smallest HDLC server address size that carries the physical address. */
    readonly addressSize: 2 | 4;
  };
  readonly tcp?: { readonly host: string; readonly port: number; readonly framing: TcpFraming };
}

export interface FleetStats {
  readonly meters: number;
  /** Meters that have been talked to (objects created). */
  readonly created: number;
  readonly lines: readonly (SimLineStats & { readonly name: string })[];
  readonly tcpConnections: number;
  /** TCP meters: bytes received from clients and answer bytes sent, over every meter and connection. */
  readonly tcpBytes: { readonly in: number; readonly out: number };
}

export interface RunningFleet {
  readonly config: FleetConfig;
  readonly lines: readonly LineEndpoint[];
  readonly endpoints: readonly MeterEndpoint[];
  readonly clients: readonly ClientCredential[];
  readonly slots: readonly MeterSlot[];
  /** Sends the meters' pushes (config.push); undefined when pushes are off. */
  readonly pushes: SimPushSender | undefined;
  /** Where the pty links are. */
  readonly ptyDir: string | undefined;
  stats(): FleetStats;
  /** Saves the snapshot of every created meter; returns how many were saved. */
  save(): Promise<number>;
  /** Stops every line and listener, saves state. Idempotent. */
  stop(): Promise<void>;
}

/** Faults for meter i: fleet-wide, then its line's, then its own (by serial or index). */
function faultsFor(config: FleetConfig, index: number, serial: string, line: number | undefined): FaultSpec {
  return mergeFaults(
    config.faults,
    line === undefined ? undefined : config.lineFaults[String(line)],
    config.meterFaults[String(index)],
    config.meterFaults[serial],
  );
}

/** Link-clock ms until a replacement is due (0 or less: already). */
function replacementDelay(r: MeterReplacement, clock: Clock, meterClock: Clock, startMs: number, speed: number): number {
  if ('afterMs' in r.when) return startMs + r.when.afterMs - clock.now();
  const left = r.when.meterTimeMs - meterClock.now();
  return left <= 0 ? 0 : Math.max(1, Math.ceil(left / speed));
}

export async function startFleet(config: FleetConfig, deps: FleetDeps = {}): Promise<RunningFleet> {
  const clock = deps.clock ?? systemClock;
  const meterClock = deps.meterClock ?? new ScaledClock(clock.now(), config.speed, clock);
  const factory = deps.meterFactory ?? defaultMeterFactory;
  const log = deps.log ?? nullLogger;
  const startMs = clock.now();
  const store = config.stateDir === undefined ? undefined : new StateStore(config.stateDir);
  store?.init();

  const perLine = config.serialLines > 0 ? Math.ceil(config.meters / config.serialLines) : 0;
  const lineOf = (i: number): number | undefined => (perLine > 0 ? Math.floor(i / perLine) : undefined);

  const firmwareOf = new Map(config.replacements.flatMap((r) => (r.firmwareId === undefined ? [] : [[r.serial, r.firmwareId] as const])));
  const lineOfIndex = new Map<number, SimLine>();
  const pushes =
    config.push === undefined
      ? undefined
      : new SimPushSender({
          settings: config.push,
          credentials: config.credentials,
          clock: meterClock,
          busOf: (spec) => {
            const line = lineOfIndex.get(spec.index);
            return line === undefined ? undefined : (frame) => line.pushFrame(frame);
          },
          onIp: () => config.tcpBasePort !== undefined,
          log,
        });

  const create = (spec: SimMeterSpec): SimMeterLike => {
    const firmwareId = firmwareOf.get(spec.serial);
    const options = { capturePeriodS: config.capturePeriodS, profileDepthDays: config.profileDepthDays, ...(firmwareId === undefined ? {} : { firmwareId }) };
    const meter = factory(spec, { clock: meterClock }, options);
    if (store !== undefined) {
      try {
        const saved = store.load(spec.serial);
        if (saved !== undefined) meter.restore(saved);
      } catch (e) {
        log.warn({ meter: spec.serial, err: isDcuError(e) ? e.message : String(e) }, 'state not restored; the meter starts afresh');
      }
    }
    pushes?.attach(spec, meter);
    return meter;
  };

  const slots: MeterSlot[] = [];
  const cancels: (() => void)[] = [];
  for (let i = 0; i < config.meters; i++) {
    const serial = meterSerial(config.serialPrefix, i);
    const line = lineOf(i);
    const faults = faultsFor(config, i, serial, line);
    const spec: SimMeterSpec = {
      index: i,
      serial,
      physicalAddress: perLine > 0 ? config.firstPhysicalAddress + (i % perLine) : config.firstPhysicalAddress,
      logicalDevice: config.logicalDevice,
      credentials: config.credentials,
      rejectAssociations: faults.rejectAssociations === true,
      seed: deriveSeed(config.seed, `meter:${serial}`),
    };
    const injector = new FaultInjector(faults, createRng(deriveSeed(config.seed, `faults:${serial}`)), clock, startMs);
    const replacement = config.replacements.find((r) => r.index === i);
    const successor = replacement === undefined ? undefined : { ...spec, serial: replacement.serial, seed: deriveSeed(config.seed, `meter:${replacement.serial}`) };
    const due = replacement === undefined ? undefined : replacementDelay(replacement, clock, meterClock, startMs, config.speed);
    const slot = new MeterSlot(successor !== undefined && due !== undefined && due <= 0 ? successor : spec, injector, create, log);
    slots.push(slot);
    if (successor !== undefined && due !== undefined && due > 0) {
      const arm = (ms: number): void => {
        const t = clock.setTimer(ms, () => {
          // The meter clock may run at another pace than the link clock: wait for it.
          const left = replacement === undefined ? 0 : replacementDelay(replacement, clock, meterClock, startMs, config.speed);
          if (left > 0) arm(left);
          else slot.replace(successor);
        });
        cancels.push(() => t.cancel());
      };
      arm(due);
    }
    if ((faults.powerCutsAtMs?.length ?? 0) > 0 || (faults.powerCutEveryMs ?? 0) > 0) {
      // A meter that pushes must exist to say it loses mains (its last gasp and power-up alarm).
      cancels.push(schedulePowerCuts(faults, clock, startMs, () => slot.powerCut(pushes !== undefined)));
    }
  }

  const ptys: SimPty[] = [];
  const lines: SimLine[] = [];
  const lineEndpoints: LineEndpoint[] = [];
  const tcp: SimTcpEndpoint[] = [];
  let ptyDir: string | undefined;
  let ownPtyDir: string | undefined;
  const stopLinks = async (): Promise<void> => {
    for (const c of cancels.splice(0)) c();
    await pushes?.idle();
    await Promise.all(lines.splice(0).map((l) => l.stop().catch(() => undefined)));
    await Promise.all(ptys.splice(0).map((p) => p.close()));
    await Promise.all(tcp.splice(0).map((t) => t.stop().catch(() => undefined)));
  };

  try {
    if (config.serialLines > 0) {
      if (config.ptyDir === undefined) ownPtyDir = mkdtempSync(join(tmpdir(), 'dcu-sim-'));
      const dir = config.ptyDir ?? ownPtyDir ?? tmpdir();
      ptyDir = dir;
      await mkdir(dir, { recursive: true });
      const makePty = deps.createPty ?? createSimPty;
      const openPort = deps.openLinePort ?? ((path: string, baud: number) => new SerialTransport({ path, baudRate: baud > 0 ? baud : 9600 }));
      const made = await Promise.all(
        Array.from({ length: config.serialLines }, (_, k) => makePty(join(dir, `line${k}`), join(dir, `.line${k}-sim`))),
      );
      ptys.push(...made);
      for (let k = 0; k < config.serialLines; k++) {
        const pty = made[k];
        if (pty === undefined) continue;
        const onLine = slots.slice(k * perLine, (k + 1) * perLine);
        const name = `line${k}`;
        pty.onExit((detail) => log.error({ line: name }, detail));
        const line = new SimLine({
          name,
          transport: openPort(pty.simPath, config.baud),
          slots: onLine,
          clock,
          baud: config.baud,
          ...(deps.pacingTickMs === undefined ? {} : { tickMs: deps.pacingTickMs }),
          latencyMs: config.latencyMs,
          jitterMs: config.jitterMs,
          rng: createRng(deriveSeed(config.seed, `line:${k}`)),
          hdlcLimits: config.hdlc,
          inactivityTimeoutMs: config.inactivityTimeoutMs,
          log: log.child({ line: name }),
        });
        lines.push(line);
        for (const slot of onLine) lineOfIndex.set(slot.spec.index, line);
        const first = onLine[0]?.spec.physicalAddress ?? config.firstPhysicalAddress;
        lineEndpoints.push({
          index: k,
          name,
          device: pty.clientPath,
          baud: config.baud,
          meters: onLine.length,
          firstPhysicalAddress: first,
          lastPhysicalAddress: first + Math.max(0, onLine.length - 1),
        });
      }
      await Promise.all(lines.map((l) => l.start()));
    }
    if (config.tcpBasePort !== undefined) {
      const base = config.tcpBasePort;
      for (const slot of slots) {
        tcp.push(
          new SimTcpEndpoint({
            slot,
            port: base + slot.spec.index,
            framing: config.framing,
            clock,
            latencyMs: config.latencyMs,
            jitterMs: config.jitterMs,
            rng: createRng(deriveSeed(config.seed, `tcp:${slot.spec.serial}`)),
            hdlcLimits: config.hdlc,
            inactivityTimeoutMs: config.inactivityTimeoutMs,
            maxConnections: config.tcpMaxConnections,
            idleTimeoutMs: config.tcpIdleTimeoutMs,
            maxBufferedBytes: config.tcpMaxBufferedBytes,
            log,
          }),
        );
      }
      await Promise.all(tcp.map((t) => t.start()));
    }
  } catch (e) {
    await stopLinks();
    if (ownPtyDir !== undefined) rmSync(ownPtyDir, { recursive: true, force: true });
    throw e;
  }

  const endpoints: MeterEndpoint[] = slots.map((slot, i) => {
    const s = slot.spec;
    const k = lineOf(i);
    const le = k === undefined ? undefined : lineEndpoints[k];
    const t = tcp[i];
    return {
      index: i,
      serial: s.serial,
      logicalDevice: s.logicalDevice,
      physicalAddress: s.physicalAddress,
      ...(le === undefined ? {} : { line: { index: le.index, device: le.device, addressSize: s.physicalAddress < 0x80 && s.logicalDevice < 0x80 ? 2 : 4 } }),
      ...(t === undefined ? {} : { tcp: { host: SIM_HOST, port: t.port, framing: t.framing } }),
    } satisfies MeterEndpoint;
  });

  const save = async (): Promise<number> => {
    if (store === undefined) return 0;
    let n = 0;
    for (const slot of slots) {
      const m = slot.peek();
      if (m === undefined) continue;
      try {
        await store.save(slot.spec.serial, m.snapshot());
        n++;
      } catch (e) {
        log.error({ meter: slot.spec.serial, err: isDcuError(e) ? e.message : String(e) }, 'state not saved');
      }
    }
    return n;
  };

  let saveTimer: TimerHandle | undefined;
  let stopped = false;
  const armSave = (): void => {
    if (stopped || store === undefined || config.saveIntervalMs <= 0) return;
    saveTimer = clock.setTimer(config.saveIntervalMs, () => {
      void save().finally(armSave);
    });
  };
  armSave();

  let stopping: Promise<void> | undefined;
  return {
    config,
    lines: lineEndpoints,
    endpoints,
    clients: config.credentials,
    slots,
    pushes,
    ptyDir,
    stats: () => ({
      meters: slots.length,
      created: slots.filter((s) => s.created).length,
      lines: lines.map((l) => ({ name: l.name, ...l.stats })),
      tcpConnections: tcp.reduce((n, t) => n + t.connectionCount, 0),
      tcpBytes: tcp.reduce((b, t) => ({ in: b.in + t.stats.bytesIn, out: b.out + t.stats.bytesOut }), { in: 0, out: 0 }),
    }),
    save,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        saveTimer?.cancel();
        await stopLinks();
        if (ownPtyDir !== undefined) rmSync(ownPtyDir, { recursive: true, force: true });
        await save();
      })();
      return stopping;
    },
  };
}
