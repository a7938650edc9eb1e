import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { listenUdp, UdpTransport, type UdpListener } from '../../../protocol/transport/udp';
import type { ByteTransport } from '../../../protocol/transport/types';

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('UDP transport (loopback)', () => {
  let listener: UdpListener | undefined;

  afterEach(async () => {
    await listener?.close();
    listener = undefined;
  });

  it('moves datagrams both ways, one chunk per datagram', async () => {
    const peers: ByteTransport[] = [];
    const atServer: string[] = [];
    listener = await listenUdp(0, '127.0.0.1', (t) => {
      peers.push(t);
      t.onData((c) => atServer.push(toHex(c)));
    });
    const client = new UdpTransport({ host: '127.0.0.1', port: listener.port });
    const atClient: string[] = [];
    client.onData((c) => atClient.push(toHex(c)));
    await client.open();
    await client.write(fromHex('0001001000010001AA'));
    await client.write(fromHex('0001001000010001BB'));
    await until(() => atServer.length === 2);
    expect(atServer).toEqual(['0001001000010001AA', '0001001000010001BB']);
    expect(peers).toHaveLength(1);
    await peers[0]!.write(fromHex('0001000100100001CC'));
    await until(() => atClient.length === 1);
    expect(atClient).toEqual(['0001000100100001CC']);
    await client.close();
    await expect(client.write(fromHex('00'))).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
  });

  it('reports a peer that went away (ICMP port unreachable) as TransportVanished', async () => {
    listener = await listenUdp(0, '127.0.0.1', () => undefined);
    const port = listener.port;
    const client = new UdpTransport({ host: '127.0.0.1', port });
    await client.open();
    await listener.close();
    listener = undefined;
    const closed = new Promise<DcuError | undefined>((resolve) => client.onClose(resolve));
    // The first send provokes the ICMP error; later sends may see it too.
    for (let i = 0; i < 5 && client.isOpen; i++) {
      await client.write(fromHex('00')).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
    const err = await closed;
    expect(err).toBeInstanceOf(DcuError);
    expect(err?.code).toBe(ErrorCode.TransportVanished);
    expect(err?.message).toMatch(/ECONNREFUSED/);
  });

  it('closes peer transports when the listener closes', async () => {
    let peer: ByteTransport | undefined;
    listener = await listenUdp(0, '127.0.0.1', (t) => (peer = t));
    const client = new UdpTransport({ host: '127.0.0.1', port: listener.port });
    await client.open();
    await client.write(fromHex('01'));
    await until(() => peer !== undefined);
    const closed = new Promise<DcuError | undefined>((resolve) => peer!.onClose(resolve));
    await listener.close();
    listener = undefined;
    expect(await closed).toBeUndefined();
    expect(peer!.isOpen).toBe(false);
    await client.close();
  });
});
