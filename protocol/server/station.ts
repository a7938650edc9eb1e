/**
 * Glue between framing and the application layer on the meter side, sans-IO: bytes in
 * (receive), bytes out (takeOutput). The transport (serial port, TCP socket, the simulator's
 * line) moves the bytes and calls takeOutput when notify fires.
 *
 * - HdlcMeterStation: one meter on an HDLC line (HdlcSecondaryLink + ApduHandler). A session
 *   is one HDLC connection (SNRM … DISC); DISC, FRMR, a new SNRM or the link's inactivity
 *   timer release it. Several answers to one request (handleBurst: a GBT stream) go as
 *   consecutive I-frames within the HDLC window.
 * - WrapperMeterStation: one TCP connection carrying wrapper frames (WrapperServerLink +
 *   ApduHandler). A session per client wPort on the connection; close() releases them.
 */
import type { Clock } from '../common/clock';
import type { ServerAddress } from '../hdlc/address';
import type { HdlcParameters } from '../hdlc/params';
import { HdlcSecondaryLink, type SecondaryEvent } from '../hdlc/secondary';
import { WrapperServerLink } from '../wrapper/link';
import type { ApduHandler, ServerSession } from './contract';

let stationCounter = 0;

export interface HdlcMeterStationOptions {
  readonly handler: ApduHandler;
  readonly address: ServerAddress;
  /** The meter's HDLC limits (default 128/128/1/1). */
  readonly limits?: Partial<HdlcParameters>;
  /** With a clock, the link drops (and the session is released) after this long without frames. */
  readonly clock?: Clock;
  readonly inactivityTimeoutMs?: number;
  /** Fill I-frames with at most this many bytes (meter quirk emulation). */
  readonly segmentSize?: number;
  /** Output became available, also from a timer (inactivity). */
  readonly notify?: () => void;
  /** Prefix of session ids (default 'hdlc-N'). */
  readonly name?: string;
}

export class HdlcMeterStation {
  private readonly link: HdlcSecondaryLink;
  private readonly name: string;
  private current: ServerSession | undefined;
  private sessions = 0;
  private pumping = false;

  constructor(private readonly opts: HdlcMeterStationOptions) {
    this.name = opts.name ?? `hdlc-${++stationCounter}`;
    this.link = new HdlcSecondaryLink({
      address: opts.address,
      ...(opts.limits === undefined ? {} : { limits: opts.limits }),
      ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      ...(opts.inactivityTimeoutMs === undefined ? {} : { inactivityTimeoutMs: opts.inactivityTimeoutMs }),
      ...(opts.segmentSize === undefined ? {} : { segmentSize: opts.segmentSize }),
      notify: () => this.pump(),
    });
  }

  /** The current HDLC connection's session, if connected. */
  get session(): ServerSession | undefined {
    return this.current;
  }

  get connected(): boolean {
    return this.link.connected;
  }

  receive(chunk: Uint8Array): void {
    this.link.receive(chunk);
    this.pump();
  }

  takeOutput(): Uint8Array | undefined {
    return this.link.takeOutput();
  }

  /** Line gone (power cut, port closed): cancel timers and release the session. */
  dispose(): void {
    this.link.dispose();
    this.endSession();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let ev = this.link.takeEvent(); ev !== undefined; ev = this.link.takeEvent()) this.onEvent(ev);
    } finally {
      this.pumping = false;
    }
    this.opts.notify?.();
  }

  private onEvent(ev: SecondaryEvent): void {
    switch (ev.type) {
      case 'connected':
        this.endSession();
        this.current = { id: `${this.name}-${++this.sessions}`, clientAddress: ev.client };
        return;
      case 'disconnected':
        this.endSession();
        return;
      case 'apdu': {
        const session = this.current ?? (this.current = { id: `${this.name}-${++this.sessions}`, clientAddress: ev.client });
        // Every answer, in order: a GBT stream goes as consecutive I-frames within the HDLC
        // window (the rest after the client's RR). None (unconfirmed request, a GBT block that
        // needs no answer yet) still ends the APDU's turn: the poll is answered with RR.
        const h = this.opts.handler;
        const answers = h.handleBurst === undefined ? [h.handle(ev.apdu, session)] : h.handleBurst(ev.apdu, session);
        if (this.link.connected) this.link.sendApdus(answers.filter((a): a is Uint8Array => a !== undefined));
        return;
      }
    }
  }

  private endSession(): void {
    const s = this.current;
    this.current = undefined;
    if (s !== undefined) this.opts.handler.release(s);
  }
}

export interface WrapperMeterStationOptions {
  readonly handler: ApduHandler;
  /** Logical device wPorts served (default [1]). */
  readonly logicalDevices?: readonly number[];
  readonly maxApduLength?: number;
  /** Output became available. */
  readonly notify?: () => void;
  /** Prefix of session ids (default 'wrapper-N'): name it after the connection. */
  readonly name?: string;
}

export class WrapperMeterStation {
  private readonly link: WrapperServerLink;
  private readonly name: string;
  private readonly sessions = new Map<number, ServerSession>();
  /** Frames refused (bad version, unknown logical device, oversize). */
  framingErrors = 0;

  constructor(private readonly opts: WrapperMeterStationOptions) {
    this.name = opts.name ?? `wrapper-${++stationCounter}`;
    this.link = new WrapperServerLink({
      logicalDevices: opts.logicalDevices ?? [1],
      ...(opts.maxApduLength === undefined ? {} : { maxApduLength: opts.maxApduLength }),
    });
  }

  receive(chunk: Uint8Array): void {
    this.link.receive(chunk);
    let out = false;
    for (let ev = this.link.takeEvent(); ev !== undefined; ev = this.link.takeEvent()) {
      if (ev.type === 'error') {
        this.framingErrors++;
        continue;
      }
      const session = this.sessionFor(ev.client);
      const h = this.opts.handler;
      const answers = h.handleBurst === undefined ? [h.handle(ev.apdu, session)] : h.handleBurst(ev.apdu, session);
      for (const answer of answers) {
        if (answer === undefined) continue;
        this.link.reply(ev, answer);
        out = true;
      }
    }
    if (out) this.opts.notify?.();
  }

  takeOutput(): Uint8Array | undefined {
    return this.link.takeOutput();
  }

  /** The TCP connection closed: every association on it is released. */
  close(): void {
    for (const s of this.sessions.values()) this.opts.handler.release(s);
    this.sessions.clear();
    this.link.reset();
  }

  private sessionFor(client: number): ServerSession {
    let s = this.sessions.get(client);
    if (s === undefined) {
      s = { id: `${this.name}-c${client}`, clientAddress: client };
      this.sessions.set(client, s);
    }
    return s;
  }
}
