import { checkClock, clockAction, readIdentity } from '../../../daemon/jobs/meter-checks';
import { simMeterLink, SIM_SPEC } from '../../helpers/sim-meter-link';

const MIN = 60_000;
const POLICY = { syncAboveMs: 5 * MIN, eventAboveMs: 10 * MIN };

describe('clock policy', () => {
  it.each([
    [0, 'none'],
    [4.9 * MIN, 'none'],
    [-5.1 * MIN, 'synchronise'],
    [7 * MIN, 'synchronise'],
    [10 * MIN, 'synchronise'],
    [-15 * MIN, 'report'],
  ] as const)('drift %d ms → %s', (drift, action) => {
    expect(clockAction(drift, POLICY)).toBe(action);
  });

  it.each([
    [1, 'none'],
    [7, 'synchronise'],
    [15, 'report'],
  ] as const)('a meter %d min ahead: %s, measured against the meter itself', async (minutes, action) => {
    const { client } = simMeterLink(Date.now() + minutes * MIN);
    await client.connect();
    const check = await checkClock(client, POLICY);
    expect(check.action).toBe(action);
    expect(Math.abs((check.driftMs ?? 0) - minutes * MIN)).toBeLessThan(2000);
    // client 17 reads only: the simulated meter refuses the SET (read-write-denied), and says so
    if (action === 'synchronise') expect(check.setResult).toBe(3);
    else expect(check.setResult).toBeUndefined();
    await client.release();
  });
});

describe('identity', () => {
  it('reads serial number, logical device name and firmware in one go', async () => {
    const { client } = simMeterLink(Date.now());
    await client.connect();
    const id = await readIdentity(client);
    expect(id.serialNumber).toBe(SIM_SPEC.serial);
    expect(id.logicalName).toMatch(/\S/);
    expect(id.firmwareId).toMatch(/\S/);
    await client.release();
  });
});
