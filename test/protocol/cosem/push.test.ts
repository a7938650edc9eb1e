import { encodeData, decodeData } from '../../../protocol/axdr/codec';
import { ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { ALARM_PUSH_OBIS, alarmPushBody, readPushContent } from '../../../protocol/cosem/push';
import { expectDcuError } from '../../helpers/dcu-error';

describe('push content (IDIS alarm push)', () => {
  it('encodes {push setup LN, logical device name, alarm register} as a structure of three', () => {
    const body = alarmPushBody(ALARM_PUSH_OBIS, 'DCUSIM000000', 0x00100004);
    expect(toHex(encodeData(body)).toUpperCase()).toBe('0203' + '09060004190900FF' + '090C' + toHex(new TextEncoder().encode('DCUSIM000000')).toUpperCase() + '0600100004');
  });

  it('reads what it wrote, and a real-looking byte vector', () => {
    const body = decodeData(fromHex('020309060004190900FF090C44435553494D30303030303006' + '00000004'));
    expect(readPushContent(body)).toEqual({ pushSetup: [0, 4, 25, 9, 0, 255], logicalDeviceName: 'DCUSIM000000', alarmRegister: 4 });
  });

  it('accepts a visible-string name and other orders; ignores what it does not know', () => {
    const c = readPushContent({ type: 'structure', items: [{ type: 'uint16', value: 1 }, { type: 'uint32', value: 9 }, { type: 'visible-string', value: 'M1' }] });
    expect(c).toEqual({ logicalDeviceName: 'M1', alarmRegister: 9 });
  });

  it('refuses a body with nothing usable', () => {
    expectDcuError(() => readPushContent({ type: 'structure', items: [{ type: 'boolean', value: true }] }), ErrorCode.MeterPushContent);
    expectDcuError(() => readPushContent({ type: 'null' }), ErrorCode.MeterPushContent);
  });
});
