/**
 * Meter side of one TCP (or UDP peer) connection carrying IEC 62056-47 wrapper frames,
 * sans-IO: WrapperServerLink + ApduHandler. A session per client wPort on the connection,
 * opened by its first frame; close() releases them all. Every answer to a request goes back
 * in order (handleBurst: a GBT stream up to the client's window). Handler errors follow the
 * shared policy (station-common.ts). The HDLC station is in station.ts.
 */
import { nullLogger, type Logger } from '../common/log';
import { WrapperServerLink } from '../wrapper/link';
import type { ServerSession } from './contract';
import {
  answerRequest,
  closeSession,
  nextStationName,
  openSession,
  type StationCommonOptions,
  type StationStats,
} from './station-common';

export interface WrapperMeterStationOptions extends StationCommonOptions {
  /** Logical device wPorts served (default [1]). */
  readonly logicalDevices?: readonly number[];
  readonly maxApduLength?: number;
  /** Output became available. */
  readonly notify?: () => void;
}

export interface WrapperStationStats extends StationStats {
  /** Frames refused (bad version, unknown logical device, oversize). */
  framingErrors: number;
}

export class WrapperMeterStation {
  private readonly link: WrapperServerLink;
  private readonly name: string;
  private readonly log: Logger;
  private readonly sessions = new Map<number, ServerSession>();
  readonly stats: WrapperStationStats = { requests: 0, handlerErrors: 0, framingErrors: 0 };

  constructor(private readonly opts: WrapperMeterStationOptions) {
    this.name = opts.name ?? nextStationName('wrapper');
    this.log = opts.log ?? nullLogger;
    this.link = new WrapperServerLink({
      logicalDevices: opts.logicalDevices ?? [1],
      ...(opts.maxApduLength === undefined ? {} : { maxApduLength: opts.maxApduLength }),
    });
  }

  /** Frames refused (bad version, unknown logical device, oversize). */
  get framingErrors(): number {
    return this.stats.framingErrors;
  }

  receive(chunk: Uint8Array): void {
    this.link.receive(chunk);
    let out = false;
    for (let ev = this.link.takeEvent(); ev !== undefined; ev = this.link.takeEvent()) {
      if (ev.type === 'error') {
        this.stats.framingErrors++;
        this.log.debug({ station: this.name, err: ev.error }, 'wrapper frame refused');
        continue;
      }
      const answers = answerRequest(this.opts.handler, ev.apdu, this.sessionFor(ev.client), this.log, this.stats);
      for (const answer of answers) {
        this.link.reply(ev, answer);
        out = true;
      }
    }
    if (out) this.opts.notify?.();
  }

  takeOutput(): Uint8Array | undefined {
    return this.link.takeOutput();
  }

  /** The connection closed: every association on it is released. */
  close(): void {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    this.link.reset();
    for (const s of sessions) closeSession(this.opts, s, 'closed', this.log);
  }

  private sessionFor(client: number): ServerSession {
    let s = this.sessions.get(client);
    if (s === undefined) {
      s = { id: `${this.name}-c${client}`, clientAddress: client };
      this.sessions.set(client, s);
      openSession(this.opts, s, this.log);
    }
    return s;
  }
}
