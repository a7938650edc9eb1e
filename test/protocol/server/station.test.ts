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
