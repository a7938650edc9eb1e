/**
 * dcud and a simulated fleet in one process on one FakeClock: the fleet's serial lines are
 * virtual (sim/virtual-lines.ts: in-memory port pairs, SimLine on the meter side, both
 * directions paced at the baud rate), the daemon is the real composition root (startDaemon)
 * with a real SQLite store. Time moves only when `runUntil` jumps it to the next timer, so
 * days of collection take seconds and virtual time is line time. Used by the exactly-once
 * acceptance test and the collection-cycle benchmark.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema';
import { validateConfig } from '../config/validate';
import { startDaemon, type Daemon } from '../daemon/dcud';
import { FakeClock } from '../protocol/common/clock';
import { nullLogger, type Logger } from '../protocol/common/log';
import type { ByteTransport } from '../protocol/transport/types';
import { parseFleetConfig } from '../sim/config';
import type { FaultSpec } from '../sim/faults';
import { startFleet, type RunningFleet } from '../sim/fleet';
import { createSimMeter, type SimMeterOptionsInput } from '../sim/meter';
import type { SimMeterFactory } from '../sim/types';
import { VirtualSerialLines } from '../sim/virtual-lines';
import { runVirtual } from './virtual-line';

export interface VirtualDcuOptions {
  /** Concentrator and meter time at the start (epoch ms). */
  readonly start: number;
  readonly meters: number;
  readonly lines: number;
  readonly baud: number;
  /** Meter turnaround (the simulator's latency), ms. */
  readonly latencyMs: number;
  readonly jitterMs?: number;
  readonly seed?: number;
  /** HDLC limits the meters grant (default the simulator's: 128 bytes, window 1). */
  readonly hdlc?: { readonly maxInfoTx?: number; readonly maxInfoRx?: number; readonly windowTx?: number; readonly windowRx?: number };
  /** Days of load profile each meter holds (default 10). */
  readonly profileDepthDays?: number;
  /** Per-meter model options (clock offset, drift…), by serial. */
  readonly meterOptions?: (serial: string) => SimMeterOptionsInput | undefined;
  /** Per-meter registry entry beyond serial, line and address (default: reading client 17, LLS). */
  readonly meterConfig?: (serial: string) => Record<string, unknown> | undefined;
  /** Per-meter faults, by serial (silent windows are ms since the start). */
  readonly meterFaults?: Readonly<Record<string, FaultSpec>>;
  /** The daemon's configuration beyond id, stateDir, lines and meters (collection, clock, registry…). */
  readonly config: Record<string, unknown>;
  /** Line options beyond name and serial (timeout, retries). */
  readonly line?: Record<string, unknown>;
  readonly logger?: Logger;
  /** SQLite directory (default: a new temporary one, removed by stop()). */
  readonly stateDir?: string;
  /** Wraps the daemon's end of each serial line (a bench taps the bytes both ways). */
  readonly wrapLine?: (transport: ByteTransport, path: string) => ByteTransport;
}

export interface VirtualDcu {
  readonly clock: FakeClock;
  readonly daemon: Daemon;
  readonly fleet: RunningFleet;
  readonly lines: VirtualSerialLines;
  readonly config: Config;
  /** Timers fired so far (the cost driver of a virtual run). */
  readonly steps: number;
  /** Moves time to `at`, timer by timer, letting every promise settle in between. */
  runUntil(at: number): Promise<void>;
  /** Runs until `op` settles (time jumps to each next timer meanwhile). */
  runWhile<T>(op: Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** Lets every pending promise continuation run (the daemon's and the simulator's I/O is in memory). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function startVirtualDcu(o: VirtualDcuOptions): Promise<VirtualDcu> {
  const clock = new FakeClock(o.start);
  const lines = new VirtualSerialLines(clock);
  const meterFactory: SimMeterFactory = (spec, deps, options = {}) => createSimMeter(spec, deps, { ...options, ...o.meterOptions?.(spec.serial) });
  const fleetConfig = parseFleetConfig(
    { meters: o.meters, serialLines: o.lines, baud: o.baud, latencyMs: o.latencyMs, jitterMs: o.jitterMs ?? 0, seed: o.seed ?? 1, profileDepthDays: o.profileDepthDays ?? 10, saveIntervalMs: 0, ...(o.hdlc === undefined ? {} : { hdlc: o.hdlc }) },
    'virtual fleet',
  );
  const fleet = await startFleet({ ...fleetConfig, meterFaults: { ...fleetConfig.meterFaults, ...o.meterFaults } }, { clock, meterClock: clock, meterFactory, createPty: lines.createPty, openLinePort: lines.openLinePort, pacingTickMs: lines.tickMs });
  const ownDir = o.stateDir === undefined ? mkdtempSync(join(tmpdir(), 'dcu-virtual-')) : undefined;
  const stateDir = o.stateDir ?? ownDir ?? '';
  const config = validateConfig(
    {
      id: 'dcu-virtual',
      stateDir,
      lines: fleet.lines.map((l) => ({ name: l.name, serial: { path: l.device, baud: o.baud }, ...o.line })),
      meters: fleet.endpoints.map((m) => ({ serial: m.serial, line: `line${m.line?.index ?? 0}`, address: `${m.logicalDevice}/${m.physicalAddress}`, ...(o.meterConfig?.(m.serial) ?? { client: 17, auth: 'low', password: '00000000' }) })),
      ...o.config,
    },
    'virtual dcu',
  );
  let daemon: Daemon;
  try {
    const wrap = o.wrapLine ?? ((t: ByteTransport) => t);
    daemon = startDaemon(config, { clock, logger: o.logger ?? nullLogger, openSerialLine: (l) => wrap(lines.open(l.serial.path, l.serial.baud), l.serial.path) });
  } catch (e) {
    await fleet.stop();
    if (ownDir !== undefined) rmSync(ownDir, { recursive: true, force: true });
    throw e;
  }
  let steps = 0;
  const step = async (limit: number): Promise<boolean> => {
    await settle();
    const next = clock.nextTimerAt();
    if (next === undefined || next > limit) return false;
    clock.advance(Math.max(0, next - clock.now()));
    steps++;
    return true;
  };
  const runWhile = <T>(op: Promise<T>): Promise<T> => runVirtual(clock, () => op);
  return {
    clock,
    daemon,
    fleet,
    lines,
    config,
    get steps() {
      return steps;
    },
    async runUntil(at) {
      while (await step(at));
      if (clock.now() < at) clock.advance(at - clock.now());
      await settle();
    },
    runWhile,
    async stop() {
      // Stopping finishes the request in flight: time keeps moving until it is done.
      await runWhile(daemon.stop());
      await fleet.stop();
      if (ownDir !== undefined) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}
