import { type Apdu, decodeApdu, encodeApdu } from '../../../protocol/apdu';
import { FakeClock } from '../../../protocol/common/clock';
import { serverAddress } from '../../../protocol/hdlc/address';
import { HdlcClientLink, type LinkEvent } from '../../../protocol/hdlc/link';
import { HdlcMeterStation, WrapperMeterStation } from '../../../protocol/server/station';
import { WrapperClientLink } from '../../../protocol/wrapper/link';
import { decodeData } from '../../../protocol/axdr/codec';
import { concatBytes } from '../../../protocol/common/hex';
import { createMiniMeterServer, miniLongValue } from '../../helpers/mini-meter';
import { aarq, attr, get, getNext } from './harness';
import { decodeFrame, type HdlcFrame } from '../../../protocol/hdlc/frame';
import { nullLogger, type Logger } from '../../../protocol/common/log';
import type { ApduHandler } from '../../../protocol/server/contract';

function hdlcSetup(inactivityTimeoutMs?: number) {
  const clock = new FakeClock();
  const { server } = createMiniMeterServer(clock, { maxReceivePduSize: 256 });
  let notified = 0;
  const station = new HdlcMeterStation({
    handler: server,
    address: serverAddress(1, 17),
    clock,
    ...(inactivityTimeoutMs === undefined ? {} : { inactivityTimeoutMs }),
    notify: () => notified++,
    name: 'line0',
  });
  const link = new HdlcClientLink({ client: 16, server: serverAddress(1, 17), clock, maxInfoRx: 128, maxInfoTx: 128, windowRx: 1, windowTx: 1 });
  const events: LinkEvent[] = [];
  const pump = (): void => {
    for (let moved = true; moved; ) {
      moved = false;
      for (let b = link.takeOutput(); b !== undefined; b = link.takeOutput()) {
        station.receive(b);
        moved = true;
      }
      for (let b = station.takeOutput(); b !== undefined; b = station.takeOutput()) {
        link.receive(b);
        moved = true;
      }
    }
    for (let e = link.takeEvent(); e !== undefined; e = link.takeEvent()) events.push(e);
  };
  const request = (a: Apdu): Apdu => {
    link.sendApdu(encodeApdu(a));
    pump();
    const i = events.findIndex((e) => e.type === 'apdu');
    const e = events.splice(i, 1)[0];
    if (e?.type !== 'apdu') throw new Error(`no APDU; events ${JSON.stringify(events.map((x) => x.type))}`);
    return decodeApdu(e.apdu);
  };
  return { clock, server, station, link, events, pump, request, notified: () => notified };
}

describe('HdlcMeterStation', () => {
  it('carries an association and a long read over a 128-byte HDLC link, and releases on DISC', () => {
    const t = hdlcSetup();
    t.link.connect();
    t.pump();
    expect(t.events.map((e) => e.type)).toEqual(['connected']);
    expect(t.station.session).toEqual({ id: 'line0-1', clientAddress: 16 });
    const session = t.station.session;
    if (session === undefined) throw new Error('no session');

    expect(t.request(aarq({ maxPdu: 1000 }))).toMatchObject({ type: 'aare', result: 'accepted' });
    expect(t.server.association(session)).toBeDefined();

    // 1000-byte value: 256-byte GET blocks, each segmented into 128-byte I-frames.
    const parts: Uint8Array[] = [];
    let a = t.request(get(attr(1, '0.0.96.128.0.255', 2)));
    for (let n = 1; a.type === 'get-response' && a.kind === 'with-datablock' && a.result.kind === 'raw'; n++) {
      parts.push(a.result.raw);
      if (a.lastBlock) break;
      a = t.request(getNext(n));
    }
    expect(decodeData(concatBytes(parts))).toEqual({ type: 'octet-string', value: miniLongValue() });

    t.link.disconnect();
    t.pump();
    expect(t.station.connected).toBe(false);
    expect(t.station.session).toBeUndefined();
    expect(t.server.association(session)).toBeUndefined();
    expect(t.notified()).toBeGreaterThan(0);
  });

  it('a new SNRM starts a new session', () => {
    const t = hdlcSetup();
    t.link.connect();
    t.pump();
    t.request(aarq());
    const first = t.station.session;
    t.link.disconnect();
    t.pump();
    t.link.connect();
    t.pump();
    expect(t.station.session?.id).toBe('line0-2');
    expect(first === undefined ? undefined : t.server.association(first)).toBeUndefined();
    // Not associated on the new connection.
    expect(t.request(get(attr(8, '0.0.1.0.0.255', 2)))).toMatchObject({ type: 'exception-response' });
  });

  it('releases the session when the link times out, and notifies', () => {
    const t = hdlcSetup(5000);
    t.link.connect();
    t.pump();
    t.request(aarq());
    const session = t.station.session;
    if (session === undefined) throw new Error('no session');
    const before = t.notified();
    t.clock.advance(6000);
    expect(t.station.session).toBeUndefined();
    expect(t.server.association(session)).toBeUndefined();
    expect(t.notified()).toBeGreaterThan(before);
    t.station.dispose();
  });
});

describe('WrapperMeterStation', () => {
  function wrapperSetup() {
    const { server } = createMiniMeterServer(new FakeClock(), { maxReceivePduSize: 512 });
    let notified = 0;
    const station = new WrapperMeterStation({ handler: server, notify: () => notified++, name: 'tcp1' });
    const client = new WrapperClientLink({ clientWPort: 16, serverWPort: 1 });
    const request = (a: Apdu, split = false): Apdu => {
      client.sendApdu(encodeApdu(a));
      for (let b = client.takeOutput(); b !== undefined; b = client.takeOutput()) {
        if (split) {
          station.receive(b.subarray(0, 3));
          station.receive(b.subarray(3));
        } else station.receive(b);
      }
      for (let b = station.takeOutput(); b !== undefined; b = station.takeOutput()) client.receive(b);
      const e = client.takeEvent();
      if (e?.type !== 'apdu') throw new Error('no answer');
      return decodeApdu(e.apdu);
    };
    return { server, station, request, notified: () => notified };
  }

  it('associates and reads over wrapper frames, split or whole, and releases on close', () => {
    const t = wrapperSetup();
    expect(t.request(aarq(), true)).toMatchObject({ type: 'aare', result: 'accepted' });
    expect(t.request(get(attr(3, '1.0.1.8.0.255', 2)))).toMatchObject({ type: 'get-response', kind: 'normal', result: { kind: 'data' } });
    expect(t.notified()).toBe(2);
    const session = { id: 'tcp1-c16', clientAddress: 16 };
    expect(t.server.association(session)).toBeDefined();
    t.station.close();
    expect(t.server.association(session)).toBeUndefined();
  });

  it('counts frames for other logical devices and answers nothing', () => {
    const t = wrapperSetup();
    t.station.receive(Uint8Array.of(0, 1, 0, 16, 0, 9, 0, 1, 0xc0));
    expect(t.station.framingErrors).toBe(1);
    expect(t.station.takeOutput()).toBeUndefined();
  });
});

/** A logger that keeps error lines (the station's policy logs every handler error). */
function errorLog(): { log: Logger; errors: string[] } {
  const errors: string[] = [];
  const log: Logger = { ...nullLogger, error: (a: object | string, msg?: string) => void errors.push(typeof a === 'string' ? a : (msg ?? '')), child: () => log };
  return { log, errors };
}

/** The mini meter, except that it throws on GET/AARQ/RLRQ while `armed` (a model bug). */
function throwingHandler(server: ApduHandler): { handler: ApduHandler; arm: (on: boolean) => void } {
  let armed = false;
  const boom = (apdu: Uint8Array): void => {
    if (armed && [0x60, 0x62, 0xc0].includes(apdu[0] ?? 0)) throw new Error('model bug');
  };
  const handler: ApduHandler = {
    handle: (apdu, s) => {
      boom(apdu);
      return server.handle(apdu, s);
    },
    release: (s) => {
      server.release(s);
      if (armed) throw new Error('release bug');
    },
  };
  return { handler, arm: (on) => void (armed = on) };
}

describe('a handler that throws never kills a station', () => {
  it('HDLC: log, answer as the protocol allows, keep serving; the session hook sees open and close', () => {
    const clock = new FakeClock();
    const { server } = createMiniMeterServer(clock);
    const { handler, arm } = throwingHandler(server);
    const { log, errors } = errorLog();
    const sessions: string[] = [];
    const station = new HdlcMeterStation({ handler, address: serverAddress(1, 17), log, onSession: (e) => sessions.push(`${e.type}:${e.session.id}`), name: 'm' });
    const link = new HdlcClientLink({ client: 16, server: serverAddress(1, 17), clock, maxInfoRx: 128, maxInfoTx: 128, windowRx: 1, windowTx: 1 });
    const events: LinkEvent[] = [];
    const down: HdlcFrame[] = [];
    const pump = (): void => {
      for (let moved = true; moved; ) {
        moved = false;
        for (let b = link.takeOutput(); b !== undefined; b = link.takeOutput(), moved = true) station.receive(b);
        for (let b = station.takeOutput(); b !== undefined; b = station.takeOutput(), moved = true) {
          down.push(decodeFrame(b));
          link.receive(b);
        }
      }
      for (let e = link.takeEvent(); e !== undefined; e = link.takeEvent()) events.push(e);
    };
    const request = (a: Apdu): Apdu | undefined => {
      const from = events.length;
      link.sendApdu(encodeApdu(a));
      pump();
      const e = events.slice(from).find((x) => x.type === 'apdu');
      return e?.type === 'apdu' ? decodeApdu(e.apdu) : undefined;
    };
    link.connect();
    pump();
    arm(true);
    expect(request(aarq())).toMatchObject({ type: 'aare', result: 'rejected-permanent', diagnostic: { source: 'acse-service-provider' } });
    arm(false);
    expect(request(aarq())).toMatchObject({ type: 'aare', result: 'accepted' });
    arm(true);
    expect(request(get(attr(3, '1.0.1.8.0.255', 2)))).toEqual({ type: 'exception-response', stateError: 'service-not-allowed', serviceError: { kind: 'other-reason' } });
    arm(false);
    expect(request(get(attr(3, '1.0.1.8.0.255', 2)))).toMatchObject({ type: 'get-response', result: { kind: 'data' } });
    // RLRQ has no error answer: nothing comes back, the poll is answered with RR and the link stays up.
    arm(true);
    const before = down.length;
    expect(request({ type: 'rlrq' })).toBeUndefined();
    expect(down.slice(before).map((f) => f.control.kind)).toEqual(['RR']);
    expect(station.connected).toBe(true);
    expect(station.stats.handlerErrors).toBe(3);
    expect(errors).toHaveLength(3);
    // A release() that throws is logged too; the station still ends the session.
    station.dispose();
    expect(station.session).toBeUndefined();
    expect(errors).toHaveLength(4);
    expect(sessions).toEqual(['opened:m-1', 'closed:m-1']);
  });

  it('wrapper: log, answer as the protocol allows, keep serving on the same connection', () => {
    const { server } = createMiniMeterServer(new FakeClock());
    const { handler, arm } = throwingHandler(server);
    const { log, errors } = errorLog();
    const sessions: string[] = [];
    const station = new WrapperMeterStation({ handler, log, onSession: (e) => sessions.push(`${e.type}:${e.session.id}`), name: 'c' });
    const client = new WrapperClientLink({ clientWPort: 16, serverWPort: 1 });
    const request = (a: Apdu): Apdu | undefined => {
      client.sendApdu(encodeApdu(a));
      for (let b = client.takeOutput(); b !== undefined; b = client.takeOutput()) station.receive(b);
      for (let b = station.takeOutput(); b !== undefined; b = station.takeOutput()) client.receive(b);
      const e = client.takeEvent();
      return e?.type === 'apdu' ? decodeApdu(e.apdu) : undefined;
    };
    arm(true);
    expect(request(aarq())).toMatchObject({ type: 'aare', result: 'rejected-permanent' });
    arm(false);
    expect(request(aarq())).toMatchObject({ type: 'aare', result: 'accepted' });
    arm(true);
    expect(request(get(attr(3, '1.0.1.8.0.255', 2)))).toMatchObject({ type: 'exception-response', stateError: 'service-not-allowed' });
    expect(request({ type: 'rlrq' })).toBeUndefined();
    arm(false);
    expect(request(get(attr(3, '1.0.1.8.0.255', 2)))).toMatchObject({ type: 'get-response', result: { kind: 'data' } });
    expect(station.stats).toMatchObject({ handlerErrors: 3, requests: 5 });
    arm(true);
    station.close();
    expect(errors).toHaveLength(4);
    expect(sessions).toEqual(['opened:c-c16', 'closed:c-c16']);
  });
});
