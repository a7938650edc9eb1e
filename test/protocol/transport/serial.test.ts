/**
 * Integration tests over a real socat pty pair: the SerialTransport under test on end `a`,
 * a second SerialTransport (plain 8N1) on end `b` as the peer.
 */
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { SerialTransport } from '../../../protocol/transport/serial';
import { createPtyPair, type PtyPair } from '../../helpers/socat';

function collect(t: SerialTransport): { bytes: () => string; waitFor: (hex: string, ms?: number) => Promise<void> } {
  let got = '';
  t.onData((c) => {
    got += toHex(c);
  });
  return {
    bytes: () => got,
    async waitFor(hex, ms = 3000) {
      const end = Date.now() + ms;
      while (!got.includes(hex)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${hex}, got ${got}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

function nextClose(t: SerialTransport): Promise<DcuError | undefined> {
  return new Promise((resolve) => {
    const off = t.onClose((e) => {
      off();
      resolve(e);
    });
  });
}

describe('SerialTransport over a socat pty pair', () => {
  let pair: PtyPair;
  const opened: SerialTransport[] = [];

  beforeEach(async () => {
    pair = await createPtyPair();
  });

  afterEach(async () => {
    for (const t of opened.splice(0)) await t.close();
    await pair.close();
  });

  function transport(path: string, opts: Partial<ConstructorParameters<typeof SerialTransport>[0]> = {}): SerialTransport {
    const t = new SerialTransport({ path, baudRate: 9600, ...opts });
    opened.push(t);
    return t;
  }

  it('moves bytes both ways at 9600 8N1 and reports its settings', async () => {
    const a = transport(pair.a);
    const b = transport(pair.b);
    await a.open();
    await b.open();
    expect(a.isOpen).toBe(true);
    expect(a.description).toBe(`${pair.a}@9600 8N1`);
    const ra = collect(a);
    const rb = collect(b);
    await a.write(fromHex('7EA00A0002FEFF0393'));
    await rb.waitFor('7EA00A0002FEFF0393');
    await b.write(fromHex('00FF7E80'));
    await ra.waitFor('00FF7E80');
  });

  it('at 7E1 writes plain 7-bit ASCII, reads 7-bit and parity-carrying characters alike, and reopens for 8N1', async () => {
    const a = transport(pair.a, { baudRate: 300, dataBits: 7, parity: 'even' });
    const b = transport(pair.b);
    await a.open();
    await b.open();
    const rb = collect(b);
    const ra = collect(a);
    // A pty has no UART: Linux forces it to CS8 without parity, so what crosses is what was
    // written — plain 7-bit ASCII, as a 7E1 software meter behind socat expects.
    await a.write(fromHex('2F3F210D0A'));
    await rb.waitFor('2F3F210D0A');
    await a.write(fromHex('AF')); // a 7-bit port cannot send bit 7
    await rb.waitFor('2F3F210D0A2F');
    await b.write(fromHex('2F3FAF3F8D0A')); // plain, then with the parity bit in bit 7
    await ra.waitFor('2F3F2F3F0D0A');
    expect(a.parityErrors).toBe(0);

    await a.update({ baudRate: 9600, dataBits: 8, parity: 'none' }); // reopens the port
    expect(a.isOpen).toBe(true);
    expect(a.settings).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    await a.write(fromHex('AF80'));
    await rb.waitFor('AF80');
    await b.write(fromHex('7EA0'));
    await ra.waitFor('7EA0');
  });

  it('changes baud and framing while open (7E1 in software, then 8N1 again)', async () => {
    const a = transport(pair.a, { baudRate: 300, dataBits: 7, parity: 'even', softwareParity: true });
    const b = transport(pair.b);
    await a.open();
    await b.open();
    const rb = collect(b);
    const ra = collect(a);
    await a.write(fromHex('2F3F210D0A')); // "/?!\r\n" at 7E1: bit 7 carries even parity
    await rb.waitFor('AF3F218D0A');
    await b.write(fromHex('AF3F')); // a 7E1 peer's bytes reach `a` as 7-bit characters
    await ra.waitFor('2F3F');

    await a.update({ baudRate: 9600, dataBits: 8, parity: 'none' });
    expect(a.settings).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(a.description).toBe(`${pair.a}@9600 8N1`);
    await a.write(fromHex('AF80'));
    await rb.waitFor('AF80');

    await a.update({ baudRate: 19200 }); // baud only: stays open, same port
    expect(a.settings.baudRate).toBe(19200);
    await a.update({ stopBits: 2 }); // needs a reopen; data still flows afterwards
    expect(a.isOpen).toBe(true);
    await b.write(fromHex('1234'));
    await ra.waitFor('1234');
  });

  it('refuses to write when closed, and close() is idempotent with no error', async () => {
    const a = transport(pair.a);
    await a.open();
    const closed = nextClose(a);
    await a.close();
    await a.close();
    expect(await closed).toBeUndefined();
    await expect(a.write(fromHex('00'))).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
  });

  it('reports an open failure with the path and the OS message', async () => {
    const t = transport(`${pair.dir}/missing`);
    const err = await t.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DcuError);
    expect((err as DcuError).code).toBe(ErrorCode.TransportOpenFailed);
    expect((err as DcuError).message).toContain(`${pair.dir}/missing`);
    expect((err as DcuError).message).toMatch(/no such file/i);
  });

  it('reports the pty vanishing as TransportVanished and reopens once it is back', async () => {
    const a = transport(pair.a);
    await a.open();
    collect(a); // reading is what notices the hang-up
    const closed = nextClose(a);
    await pair.kill();
    const err = await closed;
    expect(err).toBeInstanceOf(DcuError);
    expect(err?.code).toBe(ErrorCode.TransportVanished);
    expect(a.isOpen).toBe(false);
    await expect(a.write(fromHex('00'))).rejects.toMatchObject({ code: ErrorCode.TransportClosed });
    await expect(a.open()).rejects.toMatchObject({ code: ErrorCode.TransportOpenFailed });

    // The adapter is plugged back in: a new pair at the same paths.
    const again = await createPtyPair({ dir: pair.dir });
    try {
      await a.open();
      const b = transport(again.b);
      await b.open();
      const rb = collect(b);
      await a.write(fromHex('CAFE'));
      await rb.waitFor('CAFE');
      await b.close();
      await a.close();
    } finally {
      await again.close();
    }
  });
});
