import { parseFleetConfig } from '../../sim/config';
import { startFleet } from '../../sim/fleet';
import { runCli } from '../helpers/cli';

describe('fleet meter options', () => {
  it('a 1-minute capture period reaches every meter (for fast collection tests)', async () => {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const fleet = await startFleet(parseFleetConfig({ meters: 1, serialLines: 0, tcpBasePort: base, capturePeriodS: 60, latencyMs: 0 }, 'test'));
    try {
      const r = await runCli('dcu', ['probe', '--tcp', `127.0.0.1:${base}`, '--client', '17', '--auth', 'low', '--password', '00000000', '--json', 'get', '7:1.0.99.1.0.255:4']);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ ref: '7:1.0.99.1.0.255:4', value: { uint32: 60 } });
    } finally {
      await fleet.stop();
    }
  });
});
