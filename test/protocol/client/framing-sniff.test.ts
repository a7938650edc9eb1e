/** FramingSniffer: the other framing's first bytes, split over chunks or not; noise is not a verdict. */
import { ErrorCode } from '../../../protocol/common/errors';
import { FramingSniffer } from '../../../protocol/client/framing-sniff';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));

describe('FramingSniffer', () => {
  it('a wrapper session recognises an HDLC frame, even split after the flag', () => {
    const s = new FramingSniffer('wrapper', 16, 1);
    expect(s.push(bytes('7E'))).toBeUndefined();
    const e = s.push(bytes('A0 07 21 03 1F'));
    expect(e?.code).toBe(ErrorCode.FramingMismatch);
    expect(e?.context['detected']).toBe('hdlc');
    expect(s.push(bytes('7E A0'))).toBeUndefined(); // one verdict only
  });

  it('an HDLC session recognises a wrapper header addressed to us', () => {
    const s = new FramingSniffer('hdlc', 16, 1);
    expect(s.push(bytes('00 01 00'))).toBeUndefined();
    expect(s.push(bytes('01 00 10 00 02'))?.context['detected']).toBe('wrapper');
  });

  it('right framing, noise or another address: no verdict, and none after a frame was understood', () => {
    expect(new FramingSniffer('hdlc', 16, 1).push(bytes('7E A0 07 21 03 73'))).toBeUndefined();
    expect(new FramingSniffer('wrapper', 16, 1).push(bytes('00 01 00 01 00 10 00 02'))).toBeUndefined();
    expect(new FramingSniffer('hdlc', 16, 1).push(bytes('00 01 00 05 00 10'))).toBeUndefined();
    expect(new FramingSniffer('wrapper', 16, 1).push(bytes('7E 55'))).toBeUndefined();
    const s = new FramingSniffer('wrapper', 16, 1);
    s.settle();
    expect(s.push(bytes('7E A0'))).toBeUndefined();
  });
});
