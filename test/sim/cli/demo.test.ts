/** The README's main-job command (`npm start`): a simulated fleet on socat lines, read by the client. */
import { runCli } from '../../helpers/cli';

it('the demo reads every simulated meter on emulated serial lines (EXE)', async () => {
  const r = await runCli('demo', [], 60_000, { ...process.env, DCU_DEMO_METERS: '4', DCU_DEMO_LINES: '2', DCU_DEMO_BAUD: '115200' });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/4 EXE, 0 WARN, 0 FAIL/);
  expect(r.stdout).toMatch(/SIM000003 +1\/17 +EXE/);
}, 90_000);
