import { HdlcLoop } from '../../helpers/hdlc-loop';
import { ErrorCode } from '../../../protocol/common/errors';
import { ReceiveWindow } from '../../../protocol/hdlc/window';

const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i & 0xff);
const SMALL = { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 };

describe('HDLC segment reassembly is bounded', () => {
  it('ReceiveWindow refuses a segment that takes the APDU over its limit and forgets the rest', () => {
    const rx = new ReceiveWindow(300);
    expect(rx.accept(0, bytes(128), true).kind).toBe('accepted');
    expect(rx.accept(1, bytes(128), true).kind).toBe('accepted');
    expect(rx.accept(2, bytes(128), true)).toEqual({ kind: 'too-long', bytes: 384, limit: 300 });
    expect(rx.bufferedBytes).toBe(0);
    expect(rx.inProgress).toBe(false);
  });

  it('the client link ends with FramingTooLong when the meter answers beyond maxApduSize', () => {
    const loop = new HdlcLoop({ link: { maxApduSize: 1000 }, meter: { limits: SMALL }, handler: () => bytes(5000) });
    loop.connect();
    loop.mark();
    expect(loop.request(Uint8Array.of(0xc0, 1))).toBeUndefined();
    const error = loop.events.find((e) => e.type === 'error');
    expect(error?.type === 'error' && error.error.code).toBe(ErrorCode.FramingTooLong);
    expect(loop.link.state).toBe('disconnected');
    // It stopped asking well before the meter ran out of segments.
    expect(loop.trace.filter((t) => t.startsWith('M>I')).length).toBeLessThanOrEqual(Math.ceil(1003 / 128) + 1);
  });

  it('the client link still takes an answer of exactly maxApduSize', () => {
    const loop = new HdlcLoop({ link: { maxApduSize: 1000 }, meter: { limits: SMALL }, handler: () => bytes(1000) });
    loop.connect();
    expect(loop.request(Uint8Array.of(0xc0, 1))).toEqual(bytes(1000));
  });

  it('the meter side answers FRMR to a client whose segments never end', () => {
    const loop = new HdlcLoop({ meter: { limits: SMALL, maxApduSize: 500 } });
    loop.connect();
    loop.mark();
    loop.request(bytes(2000));
    expect(loop.trace.some((t) => t.startsWith('M>FRMR'))).toBe(true);
    expect(loop.meter.connected).toBe(false);
    expect(loop.meterEvents.some((e) => e.type === 'disconnected' && e.reason === 'frmr')).toBe(true);
  });
});
