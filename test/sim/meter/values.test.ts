import fc from 'fast-check';
import { ENERGY_EPOCH, energyAt, instantAt, loadParams } from '../../../sim/meter/values';
import { monthlySchedule, regularSchedule } from '../../../sim/meter/scheduled-source';

const spec = (seed: number) => ({ seed, serial: `SIM${seed}` });
const YEAR = 365 * 86_400_000;

describe('meter values (pure functions of serial and time)', () => {
  it('gives the same readings for the same meter and instant, other readings for another meter', () => {
    const t = Date.UTC(2026, 4, 5, 6, 7, 8);
    expect(energyAt(spec(1), t)).toEqual(energyAt(spec(1), t));
    expect(energyAt(spec(1), t)).not.toEqual(energyAt(spec(2), t));
    expect(loadParams(spec(3))).toEqual(loadParams({ seed: 3, serial: 'SIM3' }));
  });

  it('counters never go down (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 5 * YEAR }), fc.integer({ min: 1, max: 86_400_000 }), (seed, offset, dt) => {
        const a = energyAt(spec(seed), ENERGY_EPOCH + offset);
        const b = energyAt(spec(seed), ENERGY_EPOCH + offset + dt);
        return b.activeImport >= a.activeImport && b.activeExport >= a.activeExport && b.reactiveImport >= a.reactiveImport && b.reactiveExport >= a.reactiveExport;
      }),
    );
  });

  it('the import counter is the integral of the active power (checked numerically over a day)', () => {
    const s = spec(11);
    const from = Date.UTC(2026, 1, 3, 5, 30);
    let wh = 0;
    const step = 60_000;
    for (let t = from; t < from + 86_400_000; t += step) wh += (instantAt(s, t + step / 2).activePowerW * step) / 3_600_000;
    const delta = energyAt(s, from + 86_400_000).activeImport - energyAt(s, from).activeImport;
    expect(Math.abs(delta - wh)).toBeLessThan(2);
    expect(delta).toBeCloseTo(loadParams(s).meanPowerW * 24, -1);
  });

  it('keeps realistic magnitudes and fits uint32 for decades', () => {
    for (let seed = 0; seed < 50; seed++) {
      const e = energyAt(spec(seed), ENERGY_EPOCH + 30 * YEAR);
      expect(e.activeImport).toBeLessThan(0xffffffff);
      const i = instantAt(spec(seed), Date.UTC(2026, 0, 1, 19));
      expect(i.activePowerW).toBeGreaterThan(0);
      expect(i.activePowerW).toBeLessThan(5000);
    }
    expect(energyAt(spec(5), ENERGY_EPOCH - YEAR)).toEqual(energyAt(spec(5), ENERGY_EPOCH));
  });

  it('has no current while disconnected', () => {
    expect(instantAt(spec(1), Date.UTC(2026, 0, 1), false)).toMatchObject({ currentA: 0, activePowerW: 0 });
  });
});

describe('capture schedules', () => {
  it('regular: quarter hours and local midnights', () => {
    const q = regularSchedule(900, 0);
    const t = Date.UTC(2026, 0, 1, 10, 14, 59);
    expect(q.timeOf(q.indexAtOrBefore(t))).toBe(Date.UTC(2026, 0, 1, 10, 0));
    const d = regularSchedule(86_400, -60);
    expect(d.timeOf(d.indexAtOrBefore(Date.UTC(2026, 0, 1, 22, 59)))).toBe(Date.UTC(2025, 11, 31, 23));
    expect(d.timeOf(d.indexAtOrBefore(Date.UTC(2026, 0, 1, 23, 0)))).toBe(Date.UTC(2026, 0, 1, 23));
  });

  it('monthly: first of the month at local midnight, across years', () => {
    const m = monthlySchedule(-60);
    const n = m.indexAtOrBefore(Date.UTC(2026, 0, 15));
    expect(m.timeOf(n)).toBe(Date.UTC(2025, 11, 31, 23));
    expect(m.timeOf(n - 1)).toBe(Date.UTC(2025, 10, 30, 23));
    expect(m.indexAtOrBefore(Date.UTC(2025, 11, 31, 22, 59))).toBe(n - 1);
  });
});
