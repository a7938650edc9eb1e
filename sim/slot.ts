/**
 * One meter of the fleet as the links see it: its spec, its faults, and the meter object
 * itself, created on first use (1,024 idle meters cost a few hundred bytes each) and
 * restored from the state directory at that moment.
 */
import type { Logger } from '../protocol/common/log';
import type { ApduHandler, ServerSession } from '../protocol/server/contract';
import { nullLogger } from '../protocol/common/log';
import type { FaultInjector } from './faults';
import type { SimMeterLike, SimMeterSpec } from './types';

export class MeterSlot {
  private instance: SimMeterLike | undefined;
  private readonly cutListeners = new Set<() => void>();
  /**
   * The meter's handler as the stations see it: the meter is created by the first request,
   * not by a release; a handler without handleBurst answers one APDU at a time.
   */
  readonly handler: ApduHandler & Required<Pick<ApduHandler, 'handleBurst'>> = {
    handle: (apdu: Uint8Array, session: ServerSession) => this.meter.handler.handle(apdu, session),
    handleBurst: (apdu: Uint8Array, session: ServerSession) => {
      const h = this.meter.handler;
      if (h.handleBurst !== undefined) return h.handleBurst(apdu, session);
      const answer = h.handle(apdu, session);
      return answer === undefined ? [] : [answer];
    },
    release: (session: ServerSession) => this.instance?.handler.release(session),
  };

  constructor(
    private current: SimMeterSpec,
    readonly faults: FaultInjector,
    private readonly create: (spec: SimMeterSpec) => SimMeterLike,
    private readonly log: Logger = nullLogger,
  ) {}

  /** The meter at this address now (another one after `replace`). */
  get spec(): SimMeterSpec {
    return this.current;
  }

  get created(): boolean {
    return this.instance !== undefined;
  }

  /** The meter, created (and restored) on first use. */
  get meter(): SimMeterLike {
    this.instance ??= this.create(this.spec);
    return this.instance;
  }

  /** The meter if it exists, without creating it. */
  peek(): SimMeterLike | undefined {
    return this.instance;
  }

  /** Subscribes a link to power cuts (it drops its link state). Returns unsubscribe. */
  onPowerCut(listener: () => void): () => void {
    this.cutListeners.add(listener);
    return () => this.cutListeners.delete(listener);
  }

  /**
   * Another meter at the same address (a technician swapped it): links drop as in a power
   * cut, and the next request meets a new meter with its own serial number and identity.
   */
  replace(spec: SimMeterSpec): void {
    this.log.info({ meter: this.current.serial, by: spec.serial }, 'meter replaced');
    for (const l of [...this.cutListeners]) l();
    this.instance = undefined;
    this.current = spec;
  }

  /**
   * Power cut: links drop, the meter restarts, and stays silent for the outage. With `wake`
   * the meter is created first, so a meter that pushes can report it.
   */
  powerCut(wake = false): void {
    this.log.info({ meter: this.spec.serial }, 'power cut');
    if (wake) this.instance ??= this.create(this.spec);
    this.faults.powerCut();
    for (const l of [...this.cutListeners]) l();
    this.instance?.powerCut();
  }
}
