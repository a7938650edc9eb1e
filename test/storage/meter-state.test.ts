import { nextMeterState, registeredMeter, type MeterInput, type MeterState, type Transition } from '../../storage/meter-state';

const H = 3_600_000;
const policy = { unreachableAfterMs: 72 * H };

function run(s: MeterState, inputs: readonly MeterInput[]): Transition {
  let t: Transition = { state: s, effects: [] };
  const effects = [];
  for (const i of inputs) {
    t = nextMeterState(t.state, i, policy);
    effects.push(...t.effects);
  }
  return { state: t.state, effects };
}

describe('meter registry state machine', () => {
  it('registered → linked → commissioned, with the identity kept', () => {
    const t = run(registeredMeter('SIM000001'), [
      { kind: 'link-ok', now: 1000 },
      { kind: 'association-ok', now: 2000, identity: { serialNumber: 'SIM000001', firmwareId: 'FW1', logicalName: 'DCU00000001' } },
    ]);
    expect(t.state).toMatchObject({ stage: 'commissioned', reachability: 'reachable', lastSeen: 2000, identity: { firmwareId: 'FW1' } });
    expect(t.effects).toEqual([{ kind: 'event', code: 'commissioned', detail: 'SIM000001 commissioned (firmware FW1)' }]);
  });

  it('a refused association still means linked (the meter answered)', () => {
    const t = run(registeredMeter('A'), [{ kind: 'association-failed', now: 5, reason: 'authentication failure' }]);
    expect(t.state).toMatchObject({ stage: 'linked', reachability: 'reachable', lastError: 'authentication failure' });
  });

  it('reports unreachable once after the threshold, and reachable again when it answers', () => {
    const start = run(registeredMeter('A'), [{ kind: 'link-ok', now: 0 }]).state;
    const t1 = run(start, [
      { kind: 'link-failed', now: 1 * H, reason: 'timeout' },
      { kind: 'tick', now: 71 * H },
    ]);
    expect(t1.effects).toEqual([]);
    expect(t1.state.reachability).toBe('reachable');
    const t2 = run(t1.state, [
      { kind: 'tick', now: 72 * H },
      { kind: 'link-failed', now: 80 * H, reason: 'timeout' },
      { kind: 'tick', now: 100 * H },
    ]);
    expect(t2.effects.map((e) => e.kind === 'event' && e.code)).toEqual(['unreachable']);
    expect(t2.state).toMatchObject({ reachability: 'unreachable', unreachableReported: true });
    const t3 = run(t2.state, [{ kind: 'link-ok', now: 101 * H }]);
    expect(t3.effects.map((e) => e.kind === 'event' && e.code)).toEqual(['reachable-again']);
    expect(t3.state).toMatchObject({ reachability: 'reachable', silentSince: null, unreachableReported: false });
  });

  it('a meter that never answered is unreachable after the threshold from its first failure', () => {
    const t = run(registeredMeter('A'), [
      { kind: 'link-failed', now: 10 * H, reason: 'timeout' },
      { kind: 'tick', now: 82 * H },
    ]);
    expect(t.state.reachability).toBe('unreachable');
    expect(t.state.stage).toBe('registered');
  });

  it('a firmware change re-commissions', () => {
    const commissioned = run(registeredMeter('A'), [{ kind: 'association-ok', now: 1, identity: { firmwareId: 'FW1' } }]).state;
    const t = run(commissioned, [{ kind: 'association-ok', now: 2, identity: { firmwareId: 'FW2' } }]);
    expect(t.state).toMatchObject({ stage: 'linked', identity: { firmwareId: 'FW2' } });
    expect(t.effects.map((e) => e.kind)).toEqual(['event', 'recommission']);
    expect(run(t.state, [{ kind: 'association-ok', now: 3, identity: { firmwareId: 'FW2' } }]).state.stage).toBe('commissioned');
  });

  it('another serial number at the address is an alarm, never a silent overwrite', () => {
    const commissioned = run(registeredMeter('SIM000001'), [{ kind: 'association-ok', now: 1, identity: { serialNumber: 'SIM000001' } }]).state;
    const t = run(commissioned, [{ kind: 'association-ok', now: 2, identity: { serialNumber: 'XYZ999' } }]);
    expect(t.effects).toEqual([{ kind: 'alarm', code: 'serial-mismatch', detail: "the meter at SIM000001's address reports serial number XYZ999; its collection is blocked until the registry is updated" }]);
    expect(t.state.identity.serialNumber).toBe('SIM000001');
    expect(t.state.stage).toBe('linked');
    // The same meter found again raises nothing new; another one does.
    const again = run(t.state, [{ kind: 'association-ok', now: 3, identity: { serialNumber: 'XYZ999' } }]);
    expect(again.effects).toEqual([]);
    expect(run(again.state, [{ kind: 'association-ok', now: 4, identity: { serialNumber: 'ABC111' } }]).effects).toHaveLength(1);
  });

  it('serial numbers match without leading zeros, case, or a manufacturer prefix', () => {
    for (const reported of ['sim000001', 'ABCSIM000001']) {
      const t = run(registeredMeter('SIM000001'), [{ kind: 'association-ok', now: 1, identity: { serialNumber: reported } }]);
      expect(t.effects.some((e) => e.kind === 'alarm')).toBe(false);
    }
    const t = run(registeredMeter('00012345'), [{ kind: 'association-ok', now: 1, identity: { serialNumber: '12345' } }]);
    expect(t.effects.some((e) => e.kind === 'alarm')).toBe(false);
  });
});
