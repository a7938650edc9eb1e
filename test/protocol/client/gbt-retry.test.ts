/** GBT over a link that can lose blocks: each silence sends an APDU again, and the io hears of it (line metrics). */
import { GbtChannel, type GbtIo, type GbtParams } from '../../../protocol/client/gbt';
import { DcuError } from '../../../protocol/common/errors';
import { nullLogger } from '../../../protocol/common/log';

const PARAMS: GbtParams = { window: 4, streaming: true, maxPdu: 1024, timeoutMs: 100, retries: 2, maxBytes: 1 << 20 };
const ANSWER = Uint8Array.of(0xc4, 0x01, 0xc1, 0x00, 0x09, 0x01, 0x41);

function io(answers: readonly (Uint8Array | undefined)[]): { io: GbtIo; sent: Uint8Array[]; retried: number } {
  const queue = [...answers];
  const out = { sent: [] as Uint8Array[], retried: 0 };
  return {
    ...out,
    io: {
      send: (apdu) => out.sent.push(apdu),
      next: () => Promise.resolve(queue.shift()),
      retried: () => out.retried++,
    },
    get retried() {
      return out.retried;
    },
  };
}

it('tells io.retried once per APDU sent again after a silence', async () => {
  const t = io([undefined, undefined, ANSWER]);
  await expect(new GbtChannel(nullLogger).exchange(Uint8Array.of(0xc0, 0x01, 0xc1), t.io, PARAMS)).resolves.toEqual(ANSWER);
  expect(t.retried).toBe(2);
  expect(t.sent).toHaveLength(3); // the request, then two empty acknowledgements asking where the meter is
});

it('gives up after the retries with a typed timeout, having told each retry', async () => {
  const t = io([undefined, undefined, undefined]);
  await expect(new GbtChannel(nullLogger).exchange(Uint8Array.of(0xc0, 0x01, 0xc1), t.io, PARAMS)).rejects.toBeInstanceOf(DcuError);
  expect(t.retried).toBe(2);
});
