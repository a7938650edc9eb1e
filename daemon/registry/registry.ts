/**
 * The registry at run time: applies what jobs observe to a meter's state (state.ts) and
 * stores the new state with the events and alarms it raised, in one transaction.
 */
import type { Clock } from '../../protocol/common/clock';
import type { Db } from '../../storage/db';
import { inReserve, write } from '../../storage/db';
import type { EventLog } from '../../storage/events';
import type { MeterRepository } from '../../storage/meters';
import { nextMeterState, type MeterEffect, type MeterInput, type RegistryPolicy } from '../../storage/meter-state';

export type Observation = MeterInput extends infer I ? (I extends { now: number } ? Omit<I, 'now'> : never) : never;

export class Registry {
  constructor(
    private readonly db: Db,
    private readonly meters: MeterRepository,
    private readonly events: EventLog,
    private readonly clock: Clock,
    private readonly policy: RegistryPolicy,
  ) {}

  /** Applies one observation of a meter; returns the effects (already stored). */
  observe(serial: string, observation: Observation): readonly MeterEffect[] {
    const record = this.meters.get(serial);
    if (record === undefined) return [];
    const now = this.clock.now();
    const t = nextMeterState(record.state, { ...observation, now }, this.policy);
    // A tick that changes nothing writes nothing (every cycle ticks every meter).
    if (t.state === record.state && t.effects.length === 0) return t.effects;
    // Meter states and their notices are small and bounded: they may use the store's reserve.
    inReserve(this.db, () => write(this.db, `the state of meter ${serial}`, () => {
      this.meters.saveStateIn(t.state, now);
      for (const e of t.effects) {
        if (e.kind === 'alarm') this.events.alarm({ meter: serial, code: e.code, detail: e.detail }, now);
        else if (e.kind === 'event') this.events.event({ meter: serial, code: e.code, detail: e.detail }, now);
      }
    }));
    return t.effects;
  }

  /** Records an event about a meter (clock synchronised, drift reported…) with its outbox message. */
  note(serial: string, code: string, detail: string): void {
    const now = this.clock.now();
    inReserve(this.db, () => write(this.db, `event ${code} of meter ${serial}`, () => this.events.event({ meter: serial, code, detail }, now)));
  }

  /** Time passes for every meter (the unreachable threshold). */
  tick(): void {
    for (const m of this.meters.list()) this.observe(m.serial, { kind: 'tick' });
  }
}
