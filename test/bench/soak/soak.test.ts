/**
 * `npm run soak` kept from rotting: its core with 2 kills -9 and a broker outage against a
 * small simulated fleet (real dcud, dcu-sim and mosquitto processes, dist/ built) reports 0
 * gaps, 0 lost values, 0 reused ids and an intact store; and it does see reused ids when the
 * store is removed under the daemon between two kills, after the HES got messages from it
 * (the seqs start again), or the new incarnation in the ids once the daemon marks one.
 */
import { formatSoak, runSoak } from '../../../bench/soak/soak';

jest.setTimeout(240_000);

describe('npm run soak (core, 2 kills)', () => {
  it('2 kills -9 and a broker outage: streams contiguous, nothing lost, no id reused, integrity ok', async () => {
    const r = await runSoak({ kills: 2, meters: 3, backfillHours: 1, outageEvery: 2, seed: 1 });
    const text = formatSoak(r).join('\n');
    expect({ gaps: r.gaps, lost: r.valuesLost, reused: r.reuse, integrity: r.integrity, outages: r.outages }).toEqual({ gaps: 0, lost: 0, reused: [], integrity: 'ok', outages: 1 });
    expect(r.valuesStored).toBeGreaterThanOrEqual(3 * 60);
    expect(r.ok).toBe(true);
    expect(text).toContain('ids reused: 0');
  });

  it('sees ids reused (or a new store incarnation) when the store is rebuilt under the daemon between two kills', async () => {
    const r = await runSoak({ kills: 3, meters: 2, backfillHours: 1, outageEvery: 0, seed: 2, removeStoreAfterKill: 2 });
    // Today the new store gives the same ids again (reused); a daemon that marks a rebuilt
    // store with a new incarnation in its ids shows up as a second namespace instead.
    expect(r.idsReused > 0 || r.incarnations > 1).toBe(true);
    if (r.idsReused > 0) {
      expect(r.ok).toBe(false);
      expect(formatSoak(r).join('\n')).toContain('FAILED');
    }
  });
});
