/**
 * `dcu probe` over the network: the wrapper on UDP and TCP (default framing for both) and
 * HDLC over TCP (`--framing hdlc`, as behind a terminal server), against the mini meter.
 */
import { systemClock } from '../../protocol/common/clock';
import { listenTcp } from '../../protocol/transport/tcp';
import { listenUdp } from '../../protocol/transport/udp';
import { runCli } from '../helpers/cli';
import { createMiniMeterServer, MINI_ENERGY } from '../helpers/mini-meter';
import { serveMeter } from '../helpers/serve-meter';

const { server } = createMiniMeterServer(systemClock);

it('reads a register over UDP with the wrapper', async () => {
  const listener = await listenUdp(0, '127.0.0.1', (peer) => serveMeter(peer, server, { framing: 'wrapper' }));
  try {
    const r = await runCli('dcu', ['probe', '--udp', `127.0.0.1:${listener.port}`, '--json', 'get', '3:1.0.1.8.0.255:2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ value: { uint32: MINI_ENERGY } });
  } finally {
    await listener.close();
  }
});

it.each(['wrapper', 'hdlc'] as const)('reads the object list over TCP (%s)', async (framing) => {
  const listener = await listenTcp(0, '127.0.0.1', (conn) => {
    void conn.open().then(() => serveMeter(conn, server, { framing }));
  });
  try {
    const r = await runCli('dcu', ['probe', '--tcp', `127.0.0.1:${listener.port}`, '--framing', framing, '--json', 'objects']);
    // --no-gbt (workaround for meters with a faulty general block transfer) reads the same list
    const plain = await runCli('dcu', ['probe', '--tcp', `127.0.0.1:${listener.port}`, '--framing', framing, '--no-gbt', '--json', 'objects']);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toEqual(JSON.parse(r.stdout));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBeGreaterThanOrEqual(5);
  } finally {
    await listener.close();
  }
});
