/** docs/asyncapi.yaml parses (AsyncAPI 3) and names every topic the uplink uses. */
import { loadContract } from '../helpers/asyncapi';

describe('docs/asyncapi.yaml', () => {
  it('parses and has the status, data and ack channels', async () => {
    const contract = await loadContract();
    expect(contract.addresses).toEqual(
      expect.arrayContaining(['dcu/{dcuId}/status', 'dcu/{dcuId}/ack', ...['load-profile', 'daily', 'billing', 'events', 'alarms', 'registers', 'results', 'health'].map((c) => `dcu/{dcuId}/data/${c}`)]),
    );
    contract.check('dcu/d1/status', { state: 'offline', since: '2026-01-01T00:00:00.000Z', reason: 'stopped' });
    expect(() => contract.check('dcu/d1/data/events', { id: 'd1/events/1', class: 'events', seq: { first: 1, last: 1 }, sentAt: '2026-01-01T00:00:00.000Z', encoding: 'compact', items: [{ seq: 1 }] })).toThrow(/does not match/);
  });
});
