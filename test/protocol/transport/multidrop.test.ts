import { FakeClock } from '../../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { concatBytes } from '../../../protocol/common/hex';
import { clientAddress, serverAddress, type ServerAddress } from '../../../protocol/hdlc/address';
import { encodeFrame } from '../../../protocol/hdlc/frame';
import { HdlcClientLink, type LinkEvent } from '../../../protocol/hdlc/link';
import { HdlcSecondaryLink } from '../../../protocol/hdlc/secondary';
import { Listeners } from '../../../protocol/transport/listeners';
import { MultidropLine, type LineSession } from '../../../protocol/transport/multidrop';
import type { ByteTransport } from '../../../protocol/transport/types';

/** In-memory port: records writes, lets the test inject bytes, vanish or fail to open. */
class FakePort implements ByteTransport {
  readonly description = 'fake';
  isOpen = false;
  opens = 0;
  failOpen = false;
  readonly written: Uint8Array[] = [];
  onWrite: (bytes: Uint8Array) => void = () => undefined;
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closes = new Listeners<[DcuError | undefined]>();

  open(): Promise<void> {
    this.opens++;
    if (this.failOpen) return Promise.reject(new DcuError(ErrorCode.TransportOpenFailed, 'no such port'));
    this.isOpen = true;
    return Promise.resolve();
  }
  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(new DcuError(ErrorCode.TransportClosed, 'closed'));
    this.written.push(bytes);
    this.onWrite(bytes);
    return Promise.resolve();
  }
  close(): Promise<void> {
    if (this.isOpen) {
      this.isOpen = false;
      this.closes.emit(undefined);
    }
    return Promise.resolve();
  }
  onData(l: (chunk: Uint8Array) => void): () => void {
    return this.data.add(l);
  }
  onClose(l: (error?: DcuError) => void): () => void {
    return this.closes.add(l);
  }
  inject(bytes: Uint8Array): void {
    this.data.emit(bytes);
  }
  vanish(): void {
    this.isOpen = false;
    this.closes.emit(new DcuError(ErrorCode.TransportVanished, 'USB adapter unplugged'));
  }
}

const M1 = serverAddress(1, 17);
const M2 = serverAddress(1, 18);
const uaFrom = (server: ServerAddress, client = 16): Uint8Array =>
  encodeFrame({ dest: clientAddress(client), src: server, control: { kind: 'UA', pf: true }, segmented: false, info: new Uint8Array(0) });
const snrmTo = (server: ServerAddress, client = 16): Uint8Array =>
  encodeFrame({ dest: server, src: clientAddress(client), control: { kind: 'SNRM', pf: true }, segmented: false, info: new Uint8Array(0) });

function collect(s: LineSession): Uint8Array[] {
  const got: Uint8Array[] = [];
  s.onData((b) => got.push(b));
  return got;
}

describe('MultidropLine', () => {
  it('opens the port on first acquire and routes frames by (server, client)', async () => {
    const port = new FakePort();
    const line = new MultidropLine(port);
    const s = await line.acquire({ server: M1, client: 16 });
    expect(port.opens).toBe(1);
    expect(s.isOpen).toBe(true);
    const got = collect(s);
    const mine = uaFrom(M1);
    // Split and merged chunks, another meter's frame, another client's frame, our echo.
    const stream = concatBytes([uaFrom(M2), mine, uaFrom(M1, 1), snrmTo(M1), mine]);
    port.inject(stream.subarray(0, 13));
    port.inject(stream.subarray(13));
    expect(got).toEqual([mine, mine]);
    expect(line.stats).toMatchObject({ dropped: 2, echoed: 1 });
    await s.write(snrmTo(M1));
    expect(port.written).toHaveLength(1);
  });

  it('hands the line to one session at a time, in order', async () => {
    const line = new MultidropLine(new FakePort());
    const a = await line.acquire({ server: M1, client: 16 });
    let bResolved = false;
    const bP = line.acquire({ server: M2, client: 16 }).then((s) => {
      bResolved = true;
      return s;
    });
    await Promise.resolve();
    expect(bResolved).toBe(false);
    expect(line.waiting).toBe(1);
    const closed = jest.fn();
    a.onClose(closed);
    a.release();
    expect(closed).toHaveBeenCalledWith(undefined);
    const b = await bP;
    expect(b.server).toEqual(M2);
    await expect(a.write(Uint8Array.of(1))).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
    a.release(); // idempotent, does not release b
    expect(b.isOpen).toBe(true);
  });

  it('fails the session with TransportVanished when the adapter goes, and reopens on next acquire', async () => {
    const port = new FakePort();
    const line = new MultidropLine(port);
    const a = await line.acquire({ server: M1, client: 16 });
    const errors: (DcuError | undefined)[] = [];
    a.onClose((e) => errors.push(e));
    port.vanish();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: ErrorCode.TransportVanished });
    expect(a.isOpen).toBe(false);
    await expect(a.write(Uint8Array.of(1))).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
    const b = await line.acquire({ server: M1, client: 16 });
    expect(port.opens).toBe(2);
    expect(line.stats.reopens).toBe(1);
    const got = collect(b);
    port.inject(uaFrom(M1));
    expect(got).toHaveLength(1);
  });

  it('hands a waiting session the reopened line after a vanish', async () => {
    const port = new FakePort();
    const line = new MultidropLine(port);
    await line.acquire({ server: M1, client: 16 });
    const next = line.acquire({ server: M2, client: 16 });
    port.vanish();
    const b = await next;
    expect(b.isOpen).toBe(true);
    expect(port.opens).toBe(2);
  });

  it('rejects acquire with the open error and serves the next waiter', async () => {
    const port = new FakePort();
    port.failOpen = true;
    const line = new MultidropLine(port);
    await expect(line.acquire({ server: M1, client: 16 })).rejects.toMatchObject({ code: ErrorCode.TransportOpenFailed });
    port.failOpen = false;
    await expect(line.acquire({ server: M1, client: 16 })).resolves.toBeDefined();
  });

  it('close() rejects waiters and later acquires with TransportClosed', async () => {
    const port = new FakePort();
    const line = new MultidropLine(port);
    const a = await line.acquire({ server: M1, client: 16 });
    const waiting = line.acquire({ server: M2, client: 16 });
    await line.close();
    await expect(waiting).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
    await expect(line.acquire({ server: M1, client: 16 })).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
    expect(a.isOpen).toBe(false);
    expect(port.isOpen).toBe(false);
  });

  it('runs HDLC links to two meters sharing the bus, one after the other', async () => {
    const port = new FakePort();
    const clock = new FakeClock();
    const meters = [M1, M2].map((address) => new HdlcSecondaryLink({ address, limits: { maxInfoTx: 64, maxInfoRx: 64 } }));
    // The bus: every meter hears every write; each answers only its own address.
    port.onWrite = (bytes) => {
      for (const m of meters) {
        m.receive(bytes);
        for (let e = m.takeEvent(); e; e = m.takeEvent()) {
          if (e.type === 'apdu') m.sendApdu(Uint8Array.from([...e.apdu].reverse()));
        }
        for (let o = m.takeOutput(); o; o = m.takeOutput()) queueMicrotask(() => port.inject(o));
      }
    };
    const line = new MultidropLine(port);

    async function talk(server: ServerAddress, apdu: Uint8Array): Promise<LinkEvent[]> {
      const session = await line.acquire({ server, client: 16 });
      const events: LinkEvent[] = [];
      const link = new HdlcClientLink({ client: 16, server, clock, responseTimeoutMs: 1000 });
      const drain = (): void => {
        for (let o = link.takeOutput(); o; o = link.takeOutput()) void session.write(o);
        for (let e = link.takeEvent(); e; e = link.takeEvent()) events.push(e);
      };
      session.onData((b) => {
        link.receive(b);
        drain();
      });
      link.connect();
      drain();
      for (let i = 0; i < 20 && !events.some((e) => e.type === 'connected'); i++) await Promise.resolve();
      link.sendApdu(apdu);
      drain();
      for (let i = 0; i < 50 && !events.some((e) => e.type === 'apdu'); i++) await Promise.resolve();
      link.disconnect();
      drain();
      for (let i = 0; i < 20 && !events.some((e) => e.type === 'disconnected'); i++) await Promise.resolve();
      link.dispose();
      session.release();
      return events;
    }

    const long = Uint8Array.from({ length: 150 }, (_, i) => i);
    const [e1, e2] = await Promise.all([talk(M1, long), talk(M2, Uint8Array.of(1, 2, 3))]);
    expect(e1.map((e) => e.type)).toEqual(['connected', 'apdu', 'disconnected']);
    expect(e1[1]).toEqual({ type: 'apdu', apdu: Uint8Array.from([...long].reverse()) });
    expect(e2[1]).toEqual({ type: 'apdu', apdu: Uint8Array.of(3, 2, 1) });
    expect(line.stats.dropped).toBe(0);
    expect(meters[0]!.ignored).toBeGreaterThan(0); // M1 heard the frames for M2
  });
});
