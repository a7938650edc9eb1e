import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { listenTcp, TcpTransport, type TcpListener } from '../../../protocol/transport/tcp';
import type { ByteTransport } from '../../../protocol/transport/types';

function received(t: ByteTransport): () => string {
  let got = '';
  t.onData((c) => {
    got += toHex(c);
  });
  return () => got;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function nextClose(t: ByteTransport): Promise<DcuError | undefined> {
  return new Promise((resolve) => t.onClose(resolve));
}

describe('TCP transport (loopback)', () => {
  let listener: TcpListener;
  let server: ByteTransport[];

  beforeEach(async () => {
    server = [];
    listener = await listenTcp(0, '127.0.0.1', (t) => server.push(t));
  });

  afterEach(async () => {
    await listener.close();
  });

  it('moves bytes both ways', async () => {
    const client = new TcpTransport({ host: '127.0.0.1', port: listener.port });
    await client.open();
    expect(client.isOpen).toBe(true);
    expect(client.description).toBe(`tcp 127.0.0.1:${listener.port}`);
    const fromServer = received(client);
    await until(() => server.length === 1);
    const peer = server[0]!;
    const fromClient = received(peer);
    await client.write(fromHex('000100100001000DC001C100080000010000FF0200'));
    await until(() => fromClient() === '000100100001000DC001C100080000010000FF0200');
    await peer.write(fromHex('0001000100100006C401C1000906'));
    await until(() => fromServer() === '0001000100100006C401C1000906');
    const closed = nextClose(client);
    await client.close();
    expect(await closed).toBeUndefined();
    expect(client.isOpen).toBe(false);
    await expect(client.write(fromHex('00'))).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
  });

  it('reports the peer closing as TransportVanished', async () => {
    const client = new TcpTransport({ host: '127.0.0.1', port: listener.port });
    await client.open();
    await until(() => server.length === 1);
    const closed = nextClose(client);
    await server[0]!.close();
    const err = await closed;
    expect(err).toBeInstanceOf(DcuError);
    expect(err?.code).toBe(ErrorCode.TransportVanished);
    expect(err?.message).toContain('peer closed');
    expect(client.isOpen).toBe(false);
  });

  it('reports the client going away on the server side', async () => {
    const client = new TcpTransport({ host: '127.0.0.1', port: listener.port });
    await client.open();
    await until(() => server.length === 1);
    const closed = nextClose(server[0]!);
    await client.close();
    expect((await closed)?.code).toBe(ErrorCode.TransportVanished);
  });

  it('fails to connect with TransportOpenFailed naming the endpoint', async () => {
    const port = listener.port;
    await listener.close();
    listener = await listenTcp(0, '127.0.0.1', () => undefined);
    const t = new TcpTransport({ host: '127.0.0.1', port });
    const err = await t.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DcuError);
    expect((err as DcuError).code).toBe(ErrorCode.TransportOpenFailed);
    expect((err as DcuError).message).toContain(`127.0.0.1:${port}`);
  });
});
