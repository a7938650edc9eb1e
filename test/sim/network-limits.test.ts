/**
 * A bad TCP client cannot exhaust the simulator: a client that never reads stops being read
 * (answers waiting stay bounded), an idle connection is closed on the (fake) clock, and extra
 * connections beyond the cap are closed with a log line; afterwards a normal client still
 * reads. Assertions are on bytes buffered and counters, never on elapsed time.
 */
import { Socket } from 'node:net';
import { FakeClock } from '../../protocol/common/clock';
import { fromHex } from '../../protocol/common/hex';
import { nullLogger, type Logger } from '../../protocol/common/log';
import { encodeWrapper } from '../../protocol/wrapper/codec';
import { SIM_HOST, SimTcpEndpoint, TCP_LIMIT_DEFAULTS, type SimTcpEndpointOptions } from '../../sim/network';
import { createRng } from '../../sim/prng';
import { echoSlot, spec } from './fixtures';
import { connectTcp, until, wrapperRequest } from './tcp-client';

/** Every answer is 4 KiB + the request: a client that does not read falls behind fast. */
const PREFIX = new Uint8Array(4096).fill(0x55);
const MAX_BUFFERED = 64 * 1024;
/** Answers one input piece (256 bytes of 11-byte requests) can add after the check. */
const PIECE_SLACK = Math.ceil(256 / 11) * (PREFIX.length + 3);

const endpoints: SimTcpEndpoint[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const e of endpoints.splice(0)) await e.stop();
});

async function listen(clock: FakeClock, opts: Partial<SimTcpEndpointOptions> = {}) {
  const t = echoSlot(spec(0, 16), {}, { clock, prefix: PREFIX });
  const e = new SimTcpEndpoint({ slot: t.slot, port: 0, framing: 'wrapper', clock, latencyMs: 0, rng: createRng(1), maxBufferedBytes: MAX_BUFFERED, ...opts });
  endpoints.push(e);
  await e.start();
  return { e, meter: t.meter };
}

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    sockets.push(s);
    s.once('error', reject);
    s.connect({ host: SIM_HOST, port }, () => resolve(s));
  });
}

const REQUEST = encodeWrapper({ source: 16, destination: 1, apdu: fromHex('C00102') });
const BATCH_REQUESTS = 200;
const BATCH = new Uint8Array(REQUEST.length * BATCH_REQUESTS);
for (let i = 0; i < BATCH_REQUESTS; i++) BATCH.set(REQUEST, i * REQUEST.length);

/** Writes batches of requests (never reading) until the endpoint stops reading; returns how many were written. */
async function writeUntilPaused(s: Socket, e: SimTcpEndpoint): Promise<number> {
  let written = 0;
  // Guard: 2,000 batches = 1.6 GB of answers, far beyond any kernel's socket buffers.
  for (let n = 0; e.pausedConnections === 0; n++) {
    if (n >= 2000) throw new Error(`never paused; ${e.bufferedBytes} bytes buffered`);
    s.write(BATCH);
    written += BATCH_REQUESTS;
    await new Promise((r) => setTimeout(r, 2));
  }
  return written;
}

describe('SimTcpEndpoint limits', () => {
  it('defaults: 4 connections per meter, 120 s idle, 256 KiB of answers per connection', () => {
    expect(TCP_LIMIT_DEFAULTS).toEqual({ maxConnections: 4, idleTimeoutMs: 120_000, maxBufferedBytes: 256 * 1024 });
  });

  it('stops reading a client that never reads: answers waiting stay bounded; a normal client still reads', async () => {
    const clock = new FakeClock();
    const { e, meter } = await listen(clock);
    const bad = await rawConnect(e.port);
    bad.pause(); // never reads
    // Write requests until the simulator stops reading this connection (the kernel buffers
    // some MB of answers first), then as many again: those wait in the kernel.
    let written = await writeUntilPaused(bad, e);
    for (let i = 0; i < 50; i++) bad.write(BATCH);
    written += 50 * BATCH_REQUESTS;

    // A normal client on another connection is served meanwhile.
    const good = await connectTcp(e.port);
    try {
      const answer = await wrapperRequest(good, fromHex('C00304'));
      expect(answer.subarray(PREFIX.length)).toEqual(fromHex('C00304'));
    } finally {
      await good.close();
    }
    await until(() => e.pausedConnections === 1, 'the connection to stay paused');
    expect(e.bufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED + PIECE_SLACK);
    expect(e.stats.peakBufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED + PIECE_SLACK);
    expect(meter()?.state.requests).toBeLessThan(written);

    // The client reads again: every request is answered, nothing was lost, nothing is left.
    let received = 0;
    bad.on('data', (c: Buffer) => void (received += c.length));
    bad.resume();
    const answerFrame = 8 + PREFIX.length + 3;
    await until(() => received === written * answerFrame, `${written} answers`, 60_000);
    expect(meter()?.state.requests).toBe(written + 1);
    expect(e.pausedConnections).toBe(0);
    expect(e.bufferedBytes).toBe(0);
    expect(e.stats.peakBufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED + PIECE_SLACK);
  });

  it('closes a connection idle for idleTimeoutMs on the injected clock, not one that talks', async () => {
    const clock = new FakeClock();
    const { e } = await listen(clock, { idleTimeoutMs: 10_000 });
    const talker = await connectTcp(e.port);
    const idler = await connectTcp(e.port);
    const idlerClosed = new Promise<void>((r) => idler.onClose(() => r()));
    await until(() => e.connectionCount === 2, 'two connections');
    clock.advance(6_000);
    await wrapperRequest(talker, fromHex('C001'));
    clock.advance(6_000); // the idler: 12 s silent; the talker: 6 s
    await idlerClosed;
    await until(() => e.connectionCount === 1, 'the idle connection to go');
    expect(e.stats.idleClosed).toBe(1);
    expect(talker.isOpen).toBe(true);
    expect((await wrapperRequest(talker, fromHex('C002'))).subarray(PREFIX.length)).toEqual(fromHex('C002'));
    clock.advance(10_000);
    await until(() => e.connectionCount === 0, 'the talker, silent now, to go');
    expect(e.stats.idleClosed).toBe(2);
    await talker.close();
  });

  it('a client that never reads is closed by the idle timeout, and its backlog freed', async () => {
    const clock = new FakeClock();
    const { e } = await listen(clock, { idleTimeoutMs: 30_000 });
    const bad = await rawConnect(e.port);
    bad.pause();
    await writeUntilPaused(bad, e);
    clock.advance(30_000);
    await until(() => e.connectionCount === 0, 'the stalled connection to be closed');
    expect(e.bufferedBytes).toBe(0);
    const good = await connectTcp(e.port);
    expect((await wrapperRequest(good, fromHex('C009'))).subarray(PREFIX.length)).toEqual(fromHex('C009'));
    await good.close();
  });

  it('caps connections per meter: extra ones are closed with a log line; freed slots are reused', async () => {
    const clock = new FakeClock();
    const warnings: string[] = [];
    const log: Logger = { ...nullLogger, warn: (a: object | string, msg?: string) => void warnings.push(typeof a === 'string' ? a : (msg ?? '')), child: () => log };
    const { e } = await listen(clock, { maxConnections: 2, log });
    const a = await connectTcp(e.port);
    const b = await connectTcp(e.port);
    await until(() => e.connectionCount === 2, 'two connections');
    const c = await connectTcp(e.port);
    const refused = new Promise<void>((r) => c.onClose(() => r()));
    await refused;
    expect(c.isOpen).toBe(false);
    expect(e.stats).toMatchObject({ accepted: 2, refused: 1 });
    expect(warnings).toEqual([expect.stringContaining('TCP connection refused')]);
    expect((await wrapperRequest(a, fromHex('C0A1'))).subarray(PREFIX.length)).toEqual(fromHex('C0A1'));
    await b.close();
    await until(() => e.connectionCount === 1, 'the closed connection to go');
    const d = await connectTcp(e.port);
    expect((await wrapperRequest(d, fromHex('C0D1'))).subarray(PREFIX.length)).toEqual(fromHex('C0D1'));
    expect(e.stats.refused).toBe(1);
    await a.close();
    await d.close();
  });
});
