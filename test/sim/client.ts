/**
 * Client side for the simulator tests: an HdlcClientLink (on the system clock, or the test's
 * FakeClock when nothing should time out) driven over a real ByteTransport (a pty end or a
 * TCP connection), with promise helpers that wait for events, not for time.
 */
import { systemClock, type Clock } from '../../protocol/common/clock';
import { serverAddress } from '../../protocol/hdlc/address';
import { HdlcClientLink, type LinkEvent } from '../../protocol/hdlc/link';
import type { ByteTransport } from '../../protocol/transport/types';

export class HdlcTestClient {
  readonly link: HdlcClientLink;
  readonly events: LinkEvent[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    private readonly transport: ByteTransport,
    opts: { client?: number; logical?: number; physical?: number; responseTimeoutMs?: number; retries?: number; clock?: Clock } = {},
  ) {
    this.link = new HdlcClientLink({
      client: opts.client ?? 16,
      server: serverAddress(opts.logical ?? 1, opts.physical),
      clock: opts.clock ?? systemClock,
      responseTimeoutMs: opts.responseTimeoutMs ?? 1500,
      retries: opts.retries ?? 2,
      maxInfoRx: 128,
      maxInfoTx: 128,
      windowRx: 1,
      windowTx: 1,
      notify: () => this.pump(),
    });
    transport.onData((c) => {
      this.link.receive(c);
      this.pump();
    });
  }

  pump(): void {
    for (let o = this.link.takeOutput(); o !== undefined; o = this.link.takeOutput()) void this.transport.write(o);
    for (let e = this.link.takeEvent(); e !== undefined; e = this.link.takeEvent()) this.events.push(e);
    for (const w of this.waiters.splice(0)) w();
  }

  async waitFor(pred: (e: LinkEvent) => boolean, from: number, ms = 10_000): Promise<LinkEvent> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.events.slice(from).find(pred);
      if (hit !== undefined) return hit;
      if (Date.now() > end) throw new Error(`timed out; events: ${JSON.stringify(this.events.map((e) => e.type))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async connect(ms?: number): Promise<LinkEvent> {
    const from = this.events.length;
    this.link.connect();
    this.pump();
    return this.waitFor((e) => e.type === 'connected' || e.type === 'disconnected' || e.type === 'error', from, ms);
  }

  async request(apdu: Uint8Array, ms?: number): Promise<LinkEvent> {
    const from = this.events.length;
    this.link.sendApdu(apdu);
    this.pump();
    return this.waitFor((e) => e.type === 'apdu' || e.type === 'error' || e.type === 'disconnected', from, ms);
  }

  dispose(): void {
    this.link.dispose();
  }
}
