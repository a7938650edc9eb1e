/** Wrapper requests from a test client over a real TCP connection to the simulator. */
import { TcpTransport } from '../../protocol/transport/tcp';
import { WrapperClientLink } from '../../protocol/wrapper/link';
import { SIM_HOST } from '../../sim/network';
import { until } from '../helpers/until';

export { until };

/** One wrapper request on an open connection; resolves with the answer APDU. */
export async function wrapperRequest(t: TcpTransport, apdu: Uint8Array, client = 16, server = 1): Promise<Uint8Array> {
  const link = new WrapperClientLink({ clientWPort: client, serverWPort: server });
  let answer: Uint8Array | undefined;
  const off = t.onData((c) => {
    link.receive(c);
    const ev = link.takeEvent();
    if (ev?.type === 'apdu') answer = ev.apdu;
  });
  try {
    link.sendApdu(apdu);
    for (let o = link.takeOutput(); o !== undefined; o = link.takeOutput()) await t.write(o);
    await until(() => answer !== undefined, 'the answer');
    return answer ?? new Uint8Array(0);
  } finally {
    off();
  }
}

/** Opens a connection to a simulated meter. */
export async function connectTcp(port: number): Promise<TcpTransport> {
  const t = new TcpTransport({ host: SIM_HOST, port });
  await t.open();
  return t;
}
