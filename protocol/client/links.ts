import { DcuError, ErrorCode } from '../common/errors';
import { serverAddress } from '../hdlc/address';
import { HdlcClientLink } from '../hdlc/link';
import { WrapperClientLink } from '../wrapper/link';
import type { DriverLink } from './driver';
import { FramingSniffer } from './framing-sniff';
import type { LinkEvent } from './link';
import { maxApduSize, type ClientOptions } from './options';

/**
 * HDLC link for the client: errors only end the association when the link itself gives up.
 * It streams: a GBT burst goes in one transmission (P bit on its last frame) and the meter
 * may answer with several APDUs; poll() fetches the rest of an answer with RR.
 */
class HdlcAdapter implements DriverLink {
  private readonly link: HdlcClientLink;
  private lastError: DcuError | undefined;
  private disconnecting = false;
  /** disconnect() on a link already down: answered at once (no DISC goes out, none comes back). */
  private alreadyDown = false;
  private readonly sniffer: FramingSniffer;
  private mismatch: DcuError | undefined;
  readonly canStream = true;
  readonly description: string;

  constructor(options: ClientOptions, notify: () => void) {
    const { logical, physical, size } = options.serverAddress;
    this.sniffer = new FramingSniffer('hdlc', options.clientAddress, logical);
    this.link = new HdlcClientLink({
      client: options.clientAddress,
      server: serverAddress(logical, physical, size),
      maxInfoTx: options.hdlc.maxInfoTx,
      maxInfoRx: options.hdlc.maxInfoRx,
      windowTx: options.hdlc.windowTx,
      windowRx: options.hdlc.windowRx,
      responseTimeoutMs: options.responseTimeoutMs,
      retries: options.retries,
      interFrameTimeoutMs: options.hdlc.interFrameTimeoutMs,
      inactivityTimeoutMs: options.hdlc.inactivityTimeoutMs,
      maxApduSize: maxApduSize(options),
      clock: options.clock,
      notify,
      ...(options.onRetry === undefined ? {} : { onRetried: options.onRetry }),
    });
    this.description = `hdlc client ${options.clientAddress} → server ${logical}${physical === undefined ? '' : `/${physical}`}`;
  }

  get params(): HdlcClientLink['params'] {
    return this.link.params;
  }

  get progress(): number {
    return this.link.progress;
  }

  connect(): void {
    this.link.connect();
  }

  disconnect(): void {
    this.disconnecting = true;
    if (this.link.state === 'disconnected') {
      this.alreadyDown = true;
      return;
    }
    this.link.disconnect();
  }

  sendApdu(apdu: Uint8Array, options?: { readonly expectAnswer?: boolean }): void {
    this.link.sendApdu(apdu, options);
  }

  poll(): void {
    this.link.poll();
  }

  receive(chunk: Uint8Array): void {
    this.mismatch ??= this.sniffer.push(chunk);
    this.link.receive(chunk);
  }

  takeOutput(): Uint8Array | undefined {
    return this.link.takeOutput();
  }

  takeEvent(): LinkEvent | undefined {
    if (this.mismatch) {
      const error = this.mismatch;
      this.mismatch = undefined;
      return { type: 'error', error, fatal: true };
    }
    if (this.alreadyDown) {
      this.alreadyDown = false;
      return { type: 'disconnected' };
    }
    for (;;) {
      const ev = this.link.takeEvent();
      if (!ev) return undefined;
      switch (ev.type) {
        case 'connected':
          this.sniffer.settle();
          return { type: 'connected' };
        case 'apdu':
          return ev;
        case 'ui':
          continue;
        case 'error':
          this.lastError = ev.error;
          return { type: 'error', error: ev.error, fatal: false };
        case 'disconnected':
          if (ev.reason === 'local' && this.disconnecting) return { type: 'disconnected' };
          return {
            type: 'error',
            fatal: true,
            error:
              this.lastError ??
              new DcuError(ErrorCode.LinkDisconnected, `HDLC link ended (${ev.reason === 'remote' ? 'the meter answered DM/FRMR' : ev.reason})`, {
                context: { reason: ev.reason },
              }),
          };
      }
    }
  }
}

/** Wrapper link: no link set-up of its own (TCP connection or UDP datagrams carry it). */
class WrapperAdapter implements DriverLink {
  private readonly link: WrapperClientLink;
  private readonly pending: LinkEvent[] = [];
  private readonly sniffer: FramingSniffer;
  readonly canStream = true;
  readonly description: string;

  constructor(options: ClientOptions) {
    this.link = new WrapperClientLink({
      clientWPort: options.clientAddress,
      serverWPort: options.serverAddress.logical,
      maxApduLength: Math.min(0xffff, maxApduSize(options)),
    });
    this.sniffer = new FramingSniffer('wrapper', options.clientAddress, options.serverAddress.logical);
    this.description = `wrapper wPort ${options.clientAddress} → ${options.serverAddress.logical}`;
  }

  get progress(): number {
    return this.link.progress;
  }

  connect(): void {
    this.pending.push({ type: 'connected' });
  }

  disconnect(): void {
    this.pending.push({ type: 'disconnected' });
  }

  sendApdu(apdu: Uint8Array): void {
    this.link.sendApdu(apdu);
  }

  receive(chunk: Uint8Array): void {
    const mismatch = this.sniffer.push(chunk);
    if (mismatch) this.pending.push({ type: 'error', error: mismatch, fatal: true });
    else this.link.receive(chunk);
  }

  takeOutput(): Uint8Array | undefined {
    return this.link.takeOutput();
  }

  takeEvent(): LinkEvent | undefined {
    const p = this.pending.shift();
    if (p) return p;
    const ev = this.link.takeEvent();
    if (!ev) return undefined;
    if (ev.type === 'apdu') {
      this.sniffer.settle();
      return { type: 'apdu', apdu: ev.apdu };
    }
    // A frame over the limit is not noise to resync past: the meter answers beyond what we take.
    return { type: 'error', error: ev.error, fatal: ev.error.code === ErrorCode.FramingTooLong };
  }
}

export function createClientLink(options: ClientOptions, notify: () => void): DriverLink {
  return options.framing === 'hdlc' ? new HdlcAdapter(options, notify) : new WrapperAdapter(options);
}
