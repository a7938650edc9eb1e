import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { FakeClock } from '../../../protocol/common/clock';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { ModeEClient, type ModeECommand, type ModeEResult } from '../../../protocol/transport/mode-e';
import { openModeE } from '../../../protocol/transport/mode-e-driver';
import {
  baudLetterInfo,
  decodeIdentification,
  encodeHdlcAck,
  encodeRequest,
} from '../../../protocol/transport/mode-e-messages';
import { ModeEResponder } from '../../../protocol/transport/mode-e-responder';
import { addParity } from '../../../protocol/transport/parity';
import type { SerialByteTransport, SerialSettings } from '../../../protocol/transport/types';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function drain<R>(m: { takeCommand(): ModeECommand<R> | undefined }): string[] {
  const out: string[] = [];
  for (let c = m.takeCommand(); c; c = m.takeCommand()) {
    switch (c.type) {
      case 'configure': {
        const s = c.settings;
        out.push(`configure ${s.baudRate} ${s.dataBits}${s.parity[0]!.toUpperCase()}${s.stopBits}`);
        break;
      }
      case 'send':
        out.push(`send ${toHex(c.bytes)}`);
        break;
      case 'wait':
        out.push(`wait ${c.ms}`);
        break;
      case 'await':
        out.push(`await ${c.timeoutMs ?? 'forever'}`);
        break;
      case 'done':
        out.push(`done ${JSON.stringify(c.result, (k, v: unknown) => (k === 'identification' && typeof v === 'object' ? undefined : v))}`);
        break;
      case 'fail':
        out.push(`fail ${c.error.code} ${c.error.message}`);
        break;
    }
  }
  return out;
}

describe('mode E messages', () => {
  it('encodes the request with and without an address', () => {
    expect(toHex(encodeRequest())).toBe('2F3F210D0A');
    expect(toHex(encodeRequest('12345678'))).toBe('2F3F3132333435363738210D0A');
    expect(() => encodeRequest('a!b')).toThrow(DcuError);
  });

  it('encodes the HDLC ACK for 9600 baud as 06 32 35 32 0D 0A', () => {
    expect(toHex(encodeHdlcAck('5'))).toBe('063235320D0A');
  });

  it('decodes an identification with enhanced id', () => {
    const id = decodeIdentification(ascii('/LGZ5\\2ZMD3104407.B32\r\n'));
    expect(id).toMatchObject({ manufacturer: 'LGZ', baudLetter: '5', enhanced: '2', identification: 'ZMD3104407.B32', fastReaction: false });
    expect(id.baud).toEqual({ mode: 'C', baudRate: 9600 });
    expect(decodeIdentification(ascii('/ISk6MT174\r\n'))).toMatchObject({ fastReaction: true, identification: 'MT174' });
  });

  it.each([
    ['0', { mode: 'C', baudRate: 300 }],
    ['6', { mode: 'C', baudRate: 19200 }],
    ['7', { mode: 'reserved' }],
    ['A', { mode: 'B', baudRate: 600 }],
    ['F', { mode: 'B', baudRate: 19200 }],
    ['G', { mode: 'reserved' }],
    ['x', { mode: 'A', baudRate: 300 }],
  ])('baud letter %s', (letter, info) => {
    expect(baudLetterInfo(letter)).toEqual(info);
  });

  it.each(['LGZ5ident\r\n', '/LGZ5ident', '/LG\r\n', '/LGZ5id\x01\r\n'])('rejects the identification %j', (s) => {
    try {
      decodeIdentification(ascii(s));
      throw new Error('no throw');
    } catch (e) {
      expect((e as DcuError).code).toBe(ErrorCode.ModeEFailed);
    }
  });
});

describe('ModeEClient (sans-IO)', () => {
  it('signs on at 300 7E1, acks the offered baud and switches to 8N1', () => {
    const m = new ModeEClient();
    m.start();
    expect(drain(m)).toEqual(['configure 300 7E1', 'send 2F3F210D0A', 'await 3000']);
    m.receive(ascii('/LGZ5\\2ZMD'));
    expect(drain(m)).toEqual([]);
    m.receive(ascii('3104407\r\n'));
    expect(drain(m)).toEqual(['wait 200', 'send 063235320D0A', 'wait 100', 'configure 9600 8N1', 'await 500']);
    // The confirm was sent at 7E1 and read at 8N1: parity bits set on '2' and CR.
    m.receive(fromHex('06B235B28D0A'));
    const [done] = drain(m);
    expect(done).toContain('"baudRate":9600');
    expect(done).toContain('"confirmed":true');
    expect(m.state).toBe('done');
  });

  it('ignores noise and the echo of its own request, caps the baud, and finishes unconfirmed', () => {
    const m = new ModeEClient({ maxBaudRate: 4800, address: '42', confirmWindowMs: 0 });
    m.start();
    expect(drain(m)[1]).toBe('send 2F3F3432210D0A');
    m.receive(fromHex('00FF'));
    m.receive(ascii('/?42!\r\n/ABC6METER\r\n'));
    const cmds = drain(m);
    expect(cmds.slice(0, 4)).toEqual(['wait 200', 'send 063234320D0A', 'wait 100', 'configure 4800 8N1']);
    // No confirm awaited: the rest of the meter's 300 ms switch time passes before HDLC may start.
    expect(cmds[4]).toBe('wait 200');
    expect(cmds[5]).toContain('"confirmed":false');
    expect(cmds).toHaveLength(6);
  });

  it('never ends before the meter has switched (meterSwitchMs after the ACK) unless it confirmed', () => {
    const afterAck = (o: ConstructorParameters<typeof ModeEClient>[0], confirm?: string): string[] => {
      const m = new ModeEClient(o);
      m.start();
      drain(m);
      m.receive(ascii('/ABC5M\r\n'));
      drain(m); // wait, ACK, wait switchDelayMs, configure, await
      if (confirm) m.receive(fromHex(confirm));
      else m.timeout();
      return drain(m).map((c) => (c.startsWith('done') ? 'done' : c));
    };
    expect(afterAck({ confirmWindowMs: 500 })).toEqual(['done']); // 100 + 500 ≥ 300
    expect(afterAck({ confirmWindowMs: 50 })).toEqual(['wait 150', 'done']);
    expect(afterAck({ confirmWindowMs: 50, switchDelayMs: 20, meterSwitchMs: 250 })).toEqual(['wait 180', 'done']);
    expect(afterAck({ confirmWindowMs: 50 }, '063235320D0A')).toEqual(['done']); // confirmed: switched already
  });

  it.each([
    ['plain 7-bit characters', (b: Uint8Array): Uint8Array => b],
    ['characters carrying their even parity bit', (b: Uint8Array): Uint8Array => addParity(b, 'even')],
    ['mixed chunks of both', (b: Uint8Array): Uint8Array => b.map((x, i) => (i % 2 ? addParity(Uint8Array.of(x), 'even')[0]! : x))],
  ])('accepts an identification (and its own echo) sent as %s', (_, form) => {
    const m = new ModeEClient();
    m.start();
    drain(m);
    m.receive(form(ascii('/?!\r\n'))); // the probe's echo
    const ident = form(ascii('/LGZ5\\2ZMD3104407.B32\r\n'));
    m.receive(ident.subarray(0, 7));
    m.receive(ident.subarray(7));
    expect(drain(m)).toEqual(['wait 200', 'send 063235320D0A', 'wait 100', 'configure 9600 8N1', 'await 500']);
    m.receive(form(encodeHdlcAck('5')));
    expect(drain(m)[0]).toContain('"confirmed":true');
  });

  it('finishes unconfirmed when the confirm window passes', () => {
    const m = new ModeEClient();
    m.start();
    drain(m);
    m.receive(ascii('/ABC3M\r\n'));
    drain(m);
    m.timeout();
    expect(drain(m)[0]).toContain('"baudRate":2400');
  });

  it('fails with what it received when the identification never completes', () => {
    const m = new ModeEClient();
    m.start();
    drain(m);
    m.receive(ascii('/LGZ5'));
    m.timeout();
    const [fail] = drain(m);
    expect(fail).toContain(`fail ${ErrorCode.ModeEFailed}`);
    expect(fail).toContain('received "/LGZ5"');
  });

  it('says nothing was received on silence', () => {
    const m = new ModeEClient();
    m.start();
    drain(m);
    m.timeout();
    expect(drain(m)[0]).toContain('nothing received');
  });

  it.each([
    ['/ABCEident\r\n', 'protocol mode B'],
    ['/ABC8ident\r\n', 'reserved baud letter'],
    ['/ABCZident\r\n', 'protocol mode A'],
  ])('refuses %j (%s)', (ident, why) => {
    const m = new ModeEClient();
    m.start();
    drain(m);
    m.receive(ascii(ident));
    const [fail] = drain(m);
    expect(fail).toContain(`fail ${ErrorCode.ModeEFailed}`);
    expect(fail).toContain(why);
  });

  it('fails on an over-long line', () => {
    const m = new ModeEClient();
    m.start();
    drain(m);
    m.receive(ascii('/' + 'A'.repeat(200)));
    expect(drain(m)[0]).toContain('without CR LF');
  });
});

describe('ModeEResponder (sans-IO)', () => {
  it('answers a sign-on, accepts the ACK, switches to 8N1 and confirms with 7E1 characters', () => {
    const r = new ModeEResponder({ manufacturer: 'DCU', identification: 'SIM1', baudRate: 9600 });
    r.start();
    expect(drain(r)).toEqual(['configure 300 7E1', 'await forever']);
    r.receive(ascii('/?!\r\n'));
    expect(drain(r)).toEqual(['wait 200', `send ${toHex(ascii('/DCU5\\2SIM1\r\n'))}`, 'await 3000']);
    r.receive(encodeHdlcAck('4'));
    expect(drain(r)).toEqual([
      'configure 4800 8N1',
      'wait 200',
      'send 06B2B4B28D0A', // 06 '2' '4' '2' CR LF as 7E1 characters: even parity in bit 7
      'done {"baudRate":4800,"settings":{"baudRate":4800,"dataBits":8,"parity":"none","stopBits":1}}',
    ]);
  });

  it('understands a sign-on and an ACK whose characters carry their parity bit', () => {
    const r = new ModeEResponder({ baudRate: 9600, sendSwitchConfirm: false });
    r.start();
    drain(r);
    r.receive(addParity(ascii('/?!\r\n'), 'even'));
    expect(drain(r)).toHaveLength(3);
    r.receive(addParity(encodeHdlcAck('5'), 'even'));
    expect(drain(r)).toEqual(['configure 9600 8N1', 'done {"baudRate":9600,"settings":{"baudRate":9600,"dataBits":8,"parity":"none","stopBits":1}}']);
  });

  it('ignores other addresses, and goes back to listening on a readout ACK or a timeout', () => {
    const r = new ModeEResponder({ address: '7' });
    r.start();
    drain(r);
    r.receive(ascii('/?8!\r\n'));
    expect(drain(r)).toEqual([]);
    r.receive(ascii('/?7!\r\n'));
    expect(drain(r)).toHaveLength(3);
    r.receive(fromHex('063035300D0A')); // mode C readout: not served
    expect(drain(r)).toEqual(['await forever']);
    expect(r.state).toBe('listening');
    r.receive(ascii('/?!\r\n'));
    drain(r);
    r.timeout();
    expect(drain(r)).toEqual(['await forever']);
  });

  it('refuses a baud above its offer', () => {
    const r = new ModeEResponder({ baudRate: 2400 });
    r.start();
    r.receive(ascii('/?!\r\n'));
    drain(r);
    r.receive(encodeHdlcAck('6'));
    expect(drain(r)).toEqual(['await forever']);
  });

  it('rejects an offer that is not a mode E baud', () => {
    expect(() => new ModeEResponder({ baudRate: 115200 })).toThrow(DcuError);
  });
});

/** A scripted SerialByteTransport: records every call; `meter` answers writes. */
class ScriptedSerial implements SerialByteTransport {
  readonly description = 'scripted';
  isOpen = true;
  settings: SerialSettings = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };
  readonly calls: string[] = [];
  private data: ((c: Uint8Array) => void)[] = [];
  private closers: ((e?: DcuError) => void)[] = [];
  constructor(private readonly meter: (written: Uint8Array, s: ScriptedSerial) => void) {}
  async open(): Promise<void> {
    this.isOpen = true;
  }
  async write(bytes: Uint8Array): Promise<void> {
    this.calls.push(`write ${toHex(bytes)}`);
    this.meter(bytes, this);
  }
  async close(): Promise<void> {
    this.isOpen = false;
  }
  async update(s: Partial<SerialSettings>): Promise<void> {
    this.settings = { ...this.settings, ...s };
    this.calls.push(`update ${JSON.stringify(s)}`);
  }
  push(bytes: Uint8Array): void {
    for (const l of this.data) l(bytes);
  }
  vanish(): void {
    for (const l of this.closers) l(new DcuError(ErrorCode.TransportVanished, 'gone'));
  }
  onData(l: (c: Uint8Array) => void): () => void {
    this.data.push(l);
    return () => (this.data = this.data.filter((x) => x !== l));
  }
  onClose(l: (e?: DcuError) => void): () => void {
    this.closers.push(l);
    return () => (this.closers = this.closers.filter((x) => x !== l));
  }
}

describe('openModeE driver on a fake clock', () => {
  it('runs the whole opening with waits on the injected clock', async () => {
    const clock = new FakeClock();
    const serial = new ScriptedSerial((w, s) => {
      if (toHex(w) === '2F3F210D0A') setImmediate(() => s.push(ascii('/XYZ5\\2M1\r\n')));
    });
    let result: ModeEResult | undefined;
    const run = openModeE(serial, {}, clock).then((r) => (result = r));
    for (let i = 0; i < 50 && !result; i++) {
      await new Promise((r) => setImmediate(r));
      await clock.advanceAsync(100);
    }
    await run;
    expect(result).toMatchObject({ baudRate: 9600, baudLetter: '5', confirmed: false });
    expect(serial.calls).toEqual([
      'update {"baudRate":300,"dataBits":7,"parity":"even","stopBits":1}',
      'write 2F3F210D0A',
      'write 063235320D0A',
      'update {"baudRate":9600,"dataBits":8,"parity":"none","stopBits":1}',
    ]);
  });

  it('without a switch confirm, resolves no earlier than meterSwitchMs after the ACK (fake clock)', async () => {
    const clock = new FakeClock();
    let ackAt = -1;
    const serial = new ScriptedSerial((w, s) => {
      if (toHex(w) === '2F3F210D0A') setImmediate(() => s.push(ascii('/XYZ5M1\r\n')));
      if (toHex(w) === '063235320D0A') ackAt = clock.now();
    });
    let doneAt = -1;
    const run = openModeE(serial, { confirmWindowMs: 0 }, clock).then(() => (doneAt = clock.now()));
    for (let i = 0; i < 100 && doneAt < 0; i++) {
      await new Promise((r) => setImmediate(r));
      await clock.advanceAsync(10);
    }
    await run;
    expect(ackAt).toBeGreaterThan(0);
    expect(doneAt - ackAt).toBeGreaterThanOrEqual(300);
    expect(doneAt - ackAt).toBeLessThan(400);
  });

  it('rejects with ModeEFailed on silence after the identification timeout', async () => {
    const clock = new FakeClock();
    const serial = new ScriptedSerial(() => undefined);
    const run = openModeE(serial, { identificationTimeoutMs: 1000 }, clock).catch((e: unknown) => e);
    await clock.advanceAsync(1500, 100);
    const err = await run;
    expect(err).toBeInstanceOf(DcuError);
    expect((err as DcuError).code).toBe(ErrorCode.ModeEFailed);
  });

  it('rejects with the transport error when the probe vanishes', async () => {
    const clock = new FakeClock();
    const serial = new ScriptedSerial(() => undefined);
    const run = openModeE(serial, {}, clock).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    serial.vanish();
    expect(((await run) as DcuError).code).toBe(ErrorCode.TransportVanished);
  });
});

