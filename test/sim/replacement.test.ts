/**
 * A meter replaced at the same address: from the configured moment (seconds after start on
 * the link clock, or an ISO time on the meter clock) the slot at that address is a new meter
 * with its own serial number, logical device name and firmware; its links drop as in a power cut.
 */
import { FakeClock } from '../../protocol/common/clock';
import { isConfigError, type DcuError } from '../../protocol/common/errors';
import { mergeFlags } from '../../sim/cli/dcu-sim';
import { parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { freePortBlock } from '../helpers/ports';
import type { SimMeter } from '../../sim/meter';

function configError(raw: Record<string, unknown>): DcuError {
  try {
    parseFleetConfig({ meters: 3, serialLines: 0, tcpBasePort: 4059, ...raw }, 'test');
  } catch (e) {
    expect(isConfigError(e)).toBe(true);
    return e as DcuError;
  }
  throw new Error('expected a config error');
}

describe('meter replacement', () => {
  let fleet: RunningFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('swaps the meter at the address when due, on the link clock or the meter clock', async () => {
    const start = Date.UTC(2026, 5, 1);
    const clock = new FakeClock(start);
    const base = await freePortBlock(3);
    const config = parseFleetConfig(
      {
        meters: 3,
        tcpBasePort: base,
        latencyMs: 0,
        replacements: [
          { meter: 1, afterS: 60, serial: 'NEW000001', firmwareId: 'NEW-FW-2.0' },
          { meter: 'SIM000002', at: new Date(start + 2 * 3_600_000).toISOString(), serial: 'NEW000002' },
        ],
      },
      'test',
    );
    expect(config.replacements).toEqual([
      { index: 1, when: { afterMs: 60_000 }, serial: 'NEW000001', firmwareId: 'NEW-FW-2.0' },
      { index: 2, when: { meterTimeMs: start + 2 * 3_600_000 }, serial: 'NEW000002' },
    ]);
    fleet = await startFleet(config, { clock, meterClock: clock });
    const [m0, m1, m2] = fleet.slots;
    let drops = 0;
    m1!.onPowerCut(() => drops++);
    const before = m1!.meter as SimMeter;
    const address = m1!.spec.physicalAddress;
    expect(m1!.spec.serial).toBe('SIM000001');

    clock.advance(59_999);
    expect(m1!.spec.serial).toBe('SIM000001');
    clock.advance(1);
    expect(m1!.spec).toMatchObject({ serial: 'NEW000001', physicalAddress: address, logicalDevice: 1 });
    expect(drops).toBe(1);
    const after = m1!.meter as SimMeter;
    expect(after).not.toBe(before);
    expect(after.serial).toBe('NEW000001');
    expect(after.core.firmwareId).toBe('NEW-FW-2.0');
    expect(after.core.spec.seed).not.toBe(before.core.spec.seed);

    expect(m2!.spec.serial).toBe('SIM000002');
    clock.advance(2 * 3_600_000);
    expect(m2!.spec.serial).toBe('NEW000002');
    expect((m2!.meter as SimMeter).core.firmwareId).toBe((m0!.meter as SimMeter).core.firmwareId);
  });

  it('is checked: a known meter, exactly one of at/afterS, a serial no other meter has', () => {
    expect(configError({ replacements: [{ meter: 7, afterS: 1, serial: 'N1' }] }).message).toContain('replacements[0].meter: 7 is not allowed; allowed: a meter index 0..2 or a serial of this fleet');
    expect(configError({ replacements: [{ meter: 0, serial: 'N1' }] }).message).toContain('replacements[0]: needs exactly one of at (ISO time on the meter clock) or afterS');
    expect(configError({ replacements: [{ meter: 0, afterS: 1, at: '2026-01-01T00:00:00Z', serial: 'N1' }] }).context['field']).toBe('replacements[0]');
    expect(configError({ replacements: [{ meter: 0, afterS: 1, serial: 'SIM000001' }] }).context['field']).toBe('replacements[0].serial');
    expect(configError({ replacements: [{ meter: 0, at: 'tomorrow', serial: 'N1' }] }).message).toContain('replacements[0].at: "tomorrow" has the wrong form');
  });

  it('comes from --replace METER=SERIAL@WHEN flags too', () => {
    const raw = mergeFlags({ meters: 3, tcpBasePort: 4059 }, { replace: ['1=NEW000001@600', 'SIM000002=NEW000002@2026-12-01T10:00:00Z'] });
    expect(raw['replacements']).toEqual([
      { meter: 1, serial: 'NEW000001', afterS: 600 },
      { meter: 'SIM000002', serial: 'NEW000002', at: '2026-12-01T10:00:00Z' },
    ]);
    expect(parseFleetConfig(raw, 'command line').replacements.map((r) => r.index)).toEqual([1, 2]);
    expect(() => mergeFlags({}, { replace: ['NEW000001@600'] })).toThrow(/--replace "NEW000001@600" is not METER=SERIAL@WHEN/);
  });
});
