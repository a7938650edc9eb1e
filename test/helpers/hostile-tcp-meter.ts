/**
 * The hostile meter of bench/fuzz on a real TCP port, on the system clock: it associates
 * properly and then misbehaves ('garbage', 'endless-segments', …) towards whatever connects,
 * e.g. a `dcu probe` child process. One HostileMeter per connection, stopped when it closes.
 */
import { HostileMeter, type HostileMeterOptions } from '../../bench/fuzz/hostile-meter';
import { mulberry32 } from '../../bench/fuzz/rng';
import { systemClock } from '../../protocol/common/clock';
import { listenTcp, type TcpListener } from '../../protocol/transport/tcp';

export async function listenHostileTcpMeter(options: Pick<HostileMeterOptions, 'framing' | 'behaviour' | 'tickMs' | 'garbageBytes'>): Promise<TcpListener> {
  return listenTcp(0, '127.0.0.1', (conn) => {
    const meter = new HostileMeter({ ...options, clock: systemClock, random: mulberry32(11) });
    void meter.open();
    meter.onData((chunk) => void conn.write(chunk).catch(() => undefined));
    const off = conn.onData((chunk) => void meter.write(chunk).catch(() => undefined));
    conn.onClose(() => {
      off();
      meter.dispose();
      void meter.close();
    });
  });
}
