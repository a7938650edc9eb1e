import type { LineConfig } from '../../../config/schema';
import { parseMeterAddress } from '../../../daemon/lines/line';
import { ErrorCode } from '../../../protocol/common/errors';
import { expectDcuError } from '../../helpers/dcu-error';

const serial: LineConfig = { name: 'plc0', serial: { path: '/dev/null', baud: 9600, framing: 'hdlc', modeE: false }, timeout: '3s', retries: 3 };

describe('parseMeterAddress on a serial line', () => {
  it('uses the 2-byte HDLC address while both parts fit in 7 bits', () => {
    expect(parseMeterAddress(serial, '1/16').server).toEqual({ logical: 1, physical: 16, size: 2 });
    expect(parseMeterAddress(serial, '1/127').server).toEqual({ logical: 1, physical: 127, size: 2 });
    expect(parseMeterAddress(serial, '1').server).toEqual({ logical: 1, size: 1 });
  });

  it('uses the 4-byte form for physical addresses from 128 (a bus of 256 meters)', () => {
    expect(parseMeterAddress(serial, '1/128').server).toEqual({ logical: 1, physical: 128, size: 4 });
    expect(parseMeterAddress(serial, '1/271').server).toEqual({ logical: 1, physical: 271, size: 4 });
  });

  it('refuses addresses beyond HDLC addressing with a config error', () => {
    expectDcuError(() => parseMeterAddress(serial, '1/16384'), ErrorCode.Config);
    expectDcuError(() => parseMeterAddress(serial, '1/x'), ErrorCode.Config);
  });
});
