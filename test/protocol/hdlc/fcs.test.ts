import { checkCrc, crc16x25, writeCrc } from '../../../protocol/hdlc/fcs';
import { fromHex } from '../../../protocol/common/hex';

describe('crc16x25', () => {
  it('matches the CRC-16/X-25 check value', () => {
    expect(crc16x25(new TextEncoder().encode('123456789'))).toBe(0x906e);
  });

  it('is 0x0000 for the empty input (init xor xorout)', () => {
    expect(crc16x25(new Uint8Array(0))).toBe(0x0000);
  });

  it('reproduces the FCS of a real SNRM frame (low byte first)', () => {
    const snrm = fromHex('7E A0 07 03 21 93 0F 01 7E');
    expect(crc16x25(snrm, 1, 6)).toBe(0x010f);
    expect(checkCrc(snrm, 1, 6)).toBe(true);
  });

  it('writes and checks within a buffer', () => {
    const b = fromHex('A0 07 03 21 93 00 00');
    writeCrc(b, 0, 5);
    expect(b[5]).toBe(0x0f);
    expect(b[6]).toBe(0x01);
    b[2] = b[2]! ^ 1;
    expect(checkCrc(b, 0, 5)).toBe(false);
  });
});
