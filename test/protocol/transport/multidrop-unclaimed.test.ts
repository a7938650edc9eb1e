/** MultidropLine's hook for frames no session owns (meters speaking first). */
import { clientAddress, serverAddress } from '../../../protocol/hdlc/address';
import { encodeFrame, type HdlcFrame } from '../../../protocol/hdlc/frame';
import { MultidropLine } from '../../../protocol/transport/multidrop';
import { memoryTransportPair } from '../../helpers/memory-transport';

const ui = (physical: number): Uint8Array =>
  encodeFrame({ dest: clientAddress(1), src: serverAddress(1, physical), control: { kind: 'UI', pf: true }, segmented: false, info: Uint8Array.of(0xe6, 0xe7, 0x00, 0x0f) });
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('MultidropLine unclaimed frames', () => {
  it('listen() opens the port without a session; UI frames go to the hook, also from the meter holding the line', async () => {
    const [port, meters] = memoryTransportPair();
    await meters.open();
    const heard: HdlcFrame[] = [];
    const line = new MultidropLine(port, (f) => heard.push(f));
    await line.listen();
    expect(port.isOpen).toBe(true);
    await meters.write(ui(16));
    await flush();
    expect(heard.map((f) => f.src.physical)).toEqual([16]);
    const session = await line.acquire({ server: serverAddress(1, 17), client: 1 });
    const delivered: Uint8Array[] = [];
    session.onData((c) => delivered.push(c));
    // a UI frame from the session's own meter is a push, not part of the exchange
    await meters.write(ui(17));
    // an I-frame (RR) answer from the session's meter is delivered as usual
    await meters.write(encodeFrame({ dest: clientAddress(1), src: serverAddress(1, 17), control: { kind: 'RR', nr: 0, pf: true }, segmented: false, info: new Uint8Array(0) }));
    await flush();
    expect(heard.map((f) => f.src.physical)).toEqual([16, 17]);
    expect(delivered).toHaveLength(1);
    expect(line.stats.dropped).toBe(2);
    session.release();
    await line.close();
  });

  it('without a hook, frames for nobody are only counted (as before)', async () => {
    const [port, meters] = memoryTransportPair();
    await meters.open();
    const line = new MultidropLine(port);
    await line.listen();
    await meters.write(ui(16));
    await flush();
    expect(line.stats.dropped).toBe(1);
    await line.close();
  });

  it('listen() and a session asking together open the port once (a serial port cannot be opened twice)', async () => {
    const [port] = memoryTransportPair();
    let opens = 0;
    const open = port.open.bind(port);
    port.open = async () => {
      opens++;
      await new Promise((r) => setImmediate(r));
      if (port.isOpen) throw new Error('Cannot lock port');
      await open();
    };
    const line = new MultidropLine(port, () => undefined);
    const [, session] = await Promise.all([line.listen(), line.acquire({ server: serverAddress(1, 16), client: 1 })]);
    expect(opens).toBe(1);
    session.release();
    await line.close();
  });
});
