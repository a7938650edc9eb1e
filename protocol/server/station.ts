/**
 * Glue between framing and the application layer on the meter side, sans-IO: bytes in,
 * bytes out (takeOutput). The transport (serial port, TCP socket, the simulator's line) moves
 * the bytes and calls takeOutput when notify fires. One station per framing:
 *
 * - HdlcMeterStation (here): one meter on an HDLC line (HdlcSecondaryLink + ApduHandler).
 *   Stream-level, receive(bytes): one meter per TCP connection or pty; frames for other
 *   addresses are ignored. Frame-routed, receiveFrame(raw, dest): a shared multi-drop line
 *   cuts the bytes once and hands each meter the frames for its address (sim/router.ts).
 *   The meter answers in whatever address size the client uses (1, 2 or 4 bytes): a new
 *   link starts when that changes. A session is one HDLC connection (SNRM … DISC); DISC,
 *   FRMR, a new SNRM, the link's inactivity timer or dispose() release it. Several answers
 *   to one request (handleBurst: a GBT stream) go as consecutive I-frames within the window.
 * - WrapperMeterStation (wrapper-station.ts): one TCP connection carrying wrapper frames.
 *
 * Both take a logger and a session hook and share one policy for a handler that throws
 * (station-common.ts): log, answer as the protocol allows, keep serving.
 */
import type { Clock } from '../common/clock';
import { nullLogger, type Logger } from '../common/log';
import { addressEquals, type HdlcAddress, type ServerAddress } from '../hdlc/address';
import type { HdlcParameters } from '../hdlc/params';
import { HdlcSecondaryLink, type SecondaryEvent } from '../hdlc/secondary';
import { HdlcSplitter } from '../hdlc/splitter';
import type { ServerSession } from './contract';
import {
  answerRequest,
  closeSession,
  nextStationName,
  openSession,
  type StationCommonOptions,
  type StationStats,
} from './station-common';

export { WrapperMeterStation, type WrapperMeterStationOptions, type WrapperStationStats } from './wrapper-station';
export { answerToFailedRequest, type StationCommonOptions, type StationSessionEvent, type StationStats } from './station-common';

export interface HdlcMeterStationOptions extends StationCommonOptions {
  /** Logical device and physical address (the size given is only the first link's). */
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
}

export interface HdlcStationStats extends StationStats {
  /** Valid frames addressed to this meter. */
  frames: number;
  /** Valid frames for another address (stream-level only). */
  ignored: number;
  /** Delimited frames with a bad HCS/FCS or unknown control (stream-level only). */
  badFrames: number;
  garbageBytes: number;
}

export class HdlcMeterStation {
  private link: HdlcSecondaryLink | undefined;
  private linkAddress: ServerAddress | undefined;
  private readonly splitter = new HdlcSplitter();
  private readonly name: string;
  private readonly log: Logger;
  private current: ServerSession | undefined;
  private sessions = 0;
  private pumping = false;
  readonly stats: HdlcStationStats = { requests: 0, handlerErrors: 0, frames: 0, ignored: 0, badFrames: 0, garbageBytes: 0 };

  constructor(private readonly opts: HdlcMeterStationOptions) {
    this.name = opts.name ?? nextStationName('hdlc');
    this.log = opts.log ?? nullLogger;
  }

  /** The current HDLC connection's session, if connected. */
  get session(): ServerSession | undefined {
    return this.current;
  }

  get connected(): boolean {
    return this.link?.connected ?? false;
  }

  /** The address this meter answers `dest` with, or undefined when `dest` is not this meter. */
  ownAddress(dest: HdlcAddress): ServerAddress | undefined {
    const a = this.opts.address;
    if (dest.logical !== a.logical) return undefined;
    if (dest.size === 1) return { logical: a.logical, size: 1 };
    if (a.physical === undefined || (dest.physical ?? 0) !== a.physical) return undefined;
    return { logical: a.logical, physical: a.physical, size: dest.size };
  }

  /** Stream-level: bytes from a line that carries this meter alone (others' frames are ignored). */
  receive(chunk: Uint8Array): void {
    for (const ev of this.splitter.push(chunk)) {
      if (ev.type === 'garbage') this.stats.garbageBytes += ev.bytes.length;
      else if (ev.type === 'error') this.stats.badFrames++;
      else if (this.ownAddress(ev.frame.dest) === undefined) this.stats.ignored++;
      else this.receiveFrame(ev.raw, ev.frame.dest);
    }
  }

  /** Frame-routed: one whole frame already addressed to this meter (dest as it came). */
  receiveFrame(raw: Uint8Array, dest: HdlcAddress): void {
    const own = this.ownAddress(dest);
    if (own === undefined) {
      this.stats.ignored++;
      return;
    }
    this.stats.frames++;
    this.linkFor(own).receive(raw);
    this.pump();
  }

  takeOutput(): Uint8Array | undefined {
    return this.link?.takeOutput();
  }

  /** Line gone (power cut, port closed): cancel timers, forget partial input, release the session. */
  dispose(): void {
    this.link?.dispose();
    this.link = undefined;
    this.linkAddress = undefined;
    this.splitter.reset();
    this.endSession('reset');
  }

  private linkFor(own: ServerAddress): HdlcSecondaryLink {
    const current = this.link;
    if (current !== undefined && this.linkAddress !== undefined && addressEquals(this.linkAddress, own)) return current;
    // First frame, or the client switched address size: a new link.
    current?.dispose();
    this.endSession('address size changed');
    const o = this.opts;
    const link = new HdlcSecondaryLink({
      address: own,
      ...(o.limits === undefined ? {} : { limits: o.limits }),
      ...(o.clock === undefined ? {} : { clock: o.clock }),
      ...(o.inactivityTimeoutMs === undefined ? {} : { inactivityTimeoutMs: o.inactivityTimeoutMs }),
      ...(o.segmentSize === undefined ? {} : { segmentSize: o.segmentSize }),
      notify: () => {
        if (this.link === link) this.pump();
      },
    });
    this.link = link;
    this.linkAddress = own;
    return link;
  }

  private pump(): void {
    const link = this.link;
    if (this.pumping || link === undefined) return;
    this.pumping = true;
    try {
      for (let ev = link.takeEvent(); ev !== undefined; ev = link.takeEvent()) this.onEvent(link, ev);
    } finally {
      this.pumping = false;
    }
    this.opts.notify?.();
  }

  private onEvent(link: HdlcSecondaryLink, ev: SecondaryEvent): void {
    switch (ev.type) {
      case 'connected':
        this.endSession('snrm');
        this.current = this.newSession(ev.client);
        openSession(this.opts, this.current, this.log, ev.params);
        return;
      case 'disconnected':
        this.endSession(ev.reason);
        return;
      case 'apdu': {
        let session = this.current;
        if (session === undefined) {
          session = this.current = this.newSession(ev.client);
          openSession(this.opts, session, this.log);
        }
        // Every answer, in order: a GBT stream goes as consecutive I-frames within the HDLC
        // window (the rest after the client's RR). None (unconfirmed request, a GBT block that
        // needs no answer yet, a handler that threw on a request with no error answer) still
        // ends the APDU's turn: the poll is answered with RR.
        const answers = answerRequest(this.opts.handler, ev.apdu, session, this.log, this.stats);
        if (link.connected) link.sendApdus(answers);
        return;
      }
    }
  }

  private newSession(client: number): ServerSession {
    return { id: `${this.name}-${++this.sessions}`, clientAddress: client };
  }

  private endSession(reason: string): void {
    const s = this.current;
    this.current = undefined;
    if (s !== undefined) closeSession(this.opts, s, reason, this.log);
  }
}
