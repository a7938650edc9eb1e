/**
 * `dcu probe` (a real child process) against a hostile meter on a TCP port, over the wrapper:
 * it reports a typed error and exits, whatever the meter keeps sending. A garbage flood used
 * to hold a request for minutes (random `00 01` pseudo-headers counted as a frame on its way),
 * and after a dribbled frame's deadline error the release waited for ever (every dribbled
 * byte restarted its watchdog), so the error was printed and the process never ended.
 */
import { runCli } from '../helpers/cli';
import { listenHostileTcpMeter } from '../helpers/hostile-tcp-meter';

/** Generous outer limit for one probe on a loaded machine; the old code needed minutes or never ended. */
const PROBE_LIMIT_MS = 60_000;

const probe = (port: number) => runCli('dcu', ['probe', '--tcp', `127.0.0.1:${port}`, '--timeout', '1000', '--retries', '0', 'get', '3:1.0.1.8.0.255:2'], PROBE_LIMIT_MS);

it('gives up on a meter that floods garbage after the association, and exits', async () => {
  const listener = await listenHostileTcpMeter({ framing: 'wrapper', behaviour: 'garbage', tickMs: 5, garbageBytes: 8192 });
  try {
    const r = await probe(listener.port);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/dcu probe: (no answer from the meter within|.*did not complete within its deadline)/);
  } finally {
    await listener.close();
  }
}, PROBE_LIMIT_MS + 10_000);

it('exits after the deadline error of a meter that dribbles a frame byte by byte', async () => {
  const listener = await listenHostileTcpMeter({ framing: 'wrapper', behaviour: 'endless-segments', tickMs: 10 });
  try {
    const r = await probe(listener.port);
    expect(r.stderr).toMatch(/dcu probe: GET .*did not complete within its deadline/);
    expect(r.code).not.toBe(0);
  } finally {
    await listener.close();
  }
}, PROBE_LIMIT_MS + 10_000);
