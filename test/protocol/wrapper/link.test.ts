import { ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { encodeWrapper } from '../../../protocol/wrapper/codec';
import { WrapperClientLink, WrapperServerLink } from '../../../protocol/wrapper/link';

describe('wrapper links', () => {
  it('client and server talk through their output/receive', () => {
    const client = new WrapperClientLink({ clientWPort: 16, serverWPort: 1 });
    const server = new WrapperServerLink({ logicalDevices: [1, 2] });

    client.sendApdu(fromHex('C001C100080000010000FF0200'));
    const out = client.takeOutput();
    expect(out && toHex(out)).toBe('000100100001000DC001C100080000010000FF0200');
    expect(client.takeOutput()).toBeUndefined();

    server.receive(out!);
    const req = server.takeEvent();
    expect(req?.type).toBe('apdu');
    if (req?.type !== 'apdu') return;
    expect(req.client).toBe(16);
    expect(req.logicalDevice).toBe(1);

    server.reply(req, fromHex('C401C1000906'));
    const answer = server.takeOutput()!;
    expect(toHex(answer)).toBe('0001000100100006C401C1000906');

    client.receive(answer.subarray(0, 3));
    expect(client.takeEvent()).toBeUndefined();
    client.receive(answer.subarray(3));
    const ev = client.takeEvent();
    expect(ev?.type === 'apdu' && toHex(ev.apdu)).toBe('C401C1000906');
  });

  it('client reports a frame from the wrong wPort as an error event and goes on', () => {
    const client = new WrapperClientLink({ clientWPort: 16, serverWPort: 1 });
    client.receive(encodeWrapper({ source: 2, destination: 16, apdu: fromHex('AA') }));
    client.receive(encodeWrapper({ source: 1, destination: 16, apdu: fromHex('BB') }));
    const e1 = client.takeEvent();
    expect(e1?.type === 'error' && e1.error.code).toBe(ErrorCode.FramingBadAddress);
    const e2 = client.takeEvent();
    expect(e2?.type === 'apdu' && toHex(e2.apdu)).toBe('BB');
  });

  it('client surfaces a bad version as an error event', () => {
    const client = new WrapperClientLink({ clientWPort: 16, serverWPort: 1 });
    client.receive(fromHex('0002000100100000'));
    const e = client.takeEvent();
    expect(e?.type === 'error' && e.error.code).toBe(ErrorCode.FramingBadFormat);
  });

  it('server rejects frames for a logical device it does not serve', () => {
    const server = new WrapperServerLink({ logicalDevices: [1] });
    server.receive(encodeWrapper({ source: 16, destination: 9, apdu: fromHex('AA') }));
    const e = server.takeEvent();
    expect(e?.type === 'error' && e.error.code).toBe(ErrorCode.FramingBadAddress);
  });

  it('refuses invalid ports at construction', () => {
    expect(() => new WrapperClientLink({ clientWPort: 70000, serverWPort: 1 })).toThrow(/not a u16/);
  });
});
