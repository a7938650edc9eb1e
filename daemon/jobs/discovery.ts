/**
 * Discovery (opt-in per serial line, `lines[].discovery`): probes the HDLC physical addresses
 * from..to that no registered meter of the line uses. A probe is one SNRM as the discovery
 * client (public client 16 by default): a UA means a meter is there; the probe then associates
 * (no authentication) and reads the logical device name, serial number and firmware. A find
 * becomes a `meter-discovered` event for the HES (storage/discoveries.ts), listed by
 * `dcu meters discovered`; the meter is not registered (the HES owns the registry).
 *
 * The scan holds its line at `background` priority and yields it between addresses, so a
 * scheduled or on-demand job waits at most for the probe in flight.
 */
import type { Config, LineConfig } from '../../config/schema';
import { parseDuration } from '../../config/units';
import { DlmsClient } from '../../protocol/client/client';
import type { Clock, TimerHandle } from '../../protocol/common/clock';
import type { Logger } from '../../protocol/common/log';
import type { ServerAddress } from '../../protocol/hdlc/address';
import type { DiscoveredMeter, DiscoveryLog } from '../../storage/discoveries';
import type { MeterRepository } from '../../storage/meters';
import { parseMeterAddress, type LineRuntime } from '../lines/line';
import { failure } from '../meters/session';
import { readIdentity } from './meter-checks';

type DiscoveryConfig = NonNullable<LineConfig['discovery']>;

export interface DiscoveryDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly lines: ReadonlyMap<string, LineRuntime>;
  readonly meters: MeterRepository;
  readonly log: DiscoveryLog;
}

export interface ScanResult {
  readonly line: string;
  /** Addresses probed (registered ones are skipped). */
  readonly probed: number;
  /** Meters that answered, new or already reported. */
  readonly found: readonly DiscoveredMeter[];
  /** Finds stored as new events. */
  readonly reported: number;
  /** Why the scan stopped early (the line could not be opened, dcud stopping), if it did. */
  readonly stopped?: string;
}

type Probe = { readonly answered: false } | { readonly answered: true; readonly meter: Omit<DiscoveredMeter, 'line' | 'address'> };

/** 2-byte HDLC server address when both parts fit in 7 bits, else 4 bytes. */
export function probeAddress(logical: number, physical: number): ServerAddress {
  return { logical, physical, size: logical < 0x80 && physical < 0x80 ? 2 : 4 };
}

async function probe(line: LineRuntime, server: ServerAddress, d: DiscoveryConfig, clock: Clock, log: Logger): Promise<Probe> {
  const session = await line.open({ server }, d.client);
  const client = new DlmsClient(session.transport, {
    framing: 'hdlc',
    clientAddress: d.client,
    serverAddress: server,
    authentication: { mechanism: 'none' },
    responseTimeoutMs: (d.timeout === undefined ? undefined : parseDuration(d.timeout)) ?? line.timeoutMs,
    retries: 0,
    clock,
    logger: log,
  });
  try {
    try {
      await client.connect();
    } catch (e) {
      // No UA: nobody there. A UA then a refused association: a meter that wants credentials.
      return failure(e).link ? { answered: false } : { answered: true, meter: { note: `no association as client ${d.client}` } };
    }
    try {
      const id = await readIdentity(client);
      return { answered: true, meter: id };
    } catch {
      return { answered: true, meter: { note: 'identity not readable' } };
    }
  } finally {
    await client.release().catch(() => undefined);
    await client.close().catch(() => undefined);
    await session.close().catch(() => undefined);
  }
}

export class Discovery {
  private readonly timers = new Map<string, TimerHandle>();
  private readonly running = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(private readonly deps: DiscoveryDeps) {}

  private isStopping(): boolean {
    return this.stopping;
  }

  /** Lines with discovery enabled: scanned now, then every `discovery.every` after each scan. */
  start(): void {
    for (const line of this.deps.config.lines) {
      const d = line.discovery;
      if (d === undefined || !d.enabled || line.serial === undefined) continue;
      const everyMs = parseDuration(d.every) ?? 86_400_000;
      const run = (): void => {
        if (this.stopping) return;
        const p = this.scan(line.name)
          .then((r) => this.deps.logger.info({ line: r.line, probed: r.probed, found: r.found.length, reported: r.reported, stopped: r.stopped }, 'discovery scan done'))
          .catch((e: unknown) => this.deps.logger.error({ line: line.name, err: e instanceof Error ? e.message : String(e) }, 'discovery scan failed'))
          .finally(() => {
            this.running.delete(p);
            if (!this.stopping) this.timers.set(line.name, this.deps.clock.setTimer(everyMs, run));
          });
        this.running.add(p);
      };
      run();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers.values()) t.cancel();
    await Promise.allSettled([...this.running]);
  }

  /** One scan of a line's configured range (enabled or not: `dcu` may ask for one). */
  async scan(lineName: string): Promise<ScanResult> {
    const { clock, lines, meters, logger } = this.deps;
    const line = lines.get(lineName);
    const d = line?.config.discovery;
    if (line === undefined || d === undefined || line.config.serial === undefined) return { line: lineName, probed: 0, found: [], reported: 0, stopped: 'no discovery configured on this serial line' };
    const log = logger.child({ line: lineName, part: 'discovery' });
    const registered = new Set(
      meters
        .list()
        .filter((m) => m.line === lineName)
        .flatMap((m) => {
          try {
            const a = parseMeterAddress(line.config, m.address).server;
            return a.physical === undefined ? [] : [a.physical];
          } catch {
            return [];
          }
        }),
    );
    const found: DiscoveredMeter[] = [];
    let probed = 0;
    let reported = 0;
    let stopped: string | undefined;
    const lease = await line.arbiter.acquire(`discovery:${lineName}`, 'background');
    try {
      for (let physical = d.from; physical <= d.to; physical++) {
        if (this.isStopping()) {
          stopped = 'dcud is stopping';
          break;
        }
        if (lease.preempted) await lease.yield();
        if (registered.has(physical)) continue;
        const address = `${d.logical}/${physical}`;
        let result: Probe;
        try {
          result = await probe(line, probeAddress(d.logical, physical), d, clock, log);
        } catch (e) {
          stopped = failure(e).reason;
          log.warn({ err: stopped }, 'discovery stopped: the line is not available');
          break;
        }
        probed++;
        log.debug({ address, answered: result.answered }, 'discovery probe');
        if (!result.answered) continue;
        const meter: DiscoveredMeter = { line: lineName, address, ...result.meter };
        found.push(meter);
        if (this.deps.log.record(meter, clock.now())) reported++;
      }
    } finally {
      lease.release();
    }
    return { line: lineName, probed, found, reported, ...(stopped === undefined ? {} : { stopped }) };
  }
}
