/**
 * General block transfer over HDLC: both link ends carry several APDUs per transmission, so
 * GBT streams within its windows as over the wrapper; the HDLC window cuts a burst into
 * transmissions (RR in between) and HDLC recovers lost frames below GBT.
 */
import { encodeData } from '../../../protocol/axdr/codec';
import { transferImage } from '../../../protocol/client/image-transfer';
import { gbtSetup, gbts, shape, transmissions, type GbtSetup, IMAGE, readDay } from './gbt-harness';


const readHdlcDay = (s: GbtSetup): ReturnType<typeof readDay> => readDay({ framing: 'hdlc', ...s });

/** Shape without the acknowledgements of the request (the request is one block). */
const dataShape = (setup: ReturnType<typeof gbtSetup>): string[] => shape(setup.traffic).filter((x) => !x.startsWith('da'));

let reference: Uint8Array;

beforeAll(async () => {
  // The same read over HDLC without GBT: the bytes every GBT variant must reproduce.
  const { data, setup } = await readHdlcDay({ meter: { generalBlockTransfer: false } });
  reference = encodeData(data);
  expect(reference.length).toBeGreaterThan(2 * 1024);
  expect(gbts(setup.traffic)).toHaveLength(0);
});

describe('GBT over HDLC (streaming)', () => {
  it('streams a profile: three blocks in one meter transmission, F on the last frame', async () => {
    const { data, setup, granted } = await readHdlcDay({});
    expect(granted).toBe(true);
    expect(encodeData(data)).toEqual(reference);
    expect(dataShape(setup).slice(-4)).toEqual(['u1L', 'd1s', 'd2s', 'd3L']);
    // 1,024-byte GBT APDUs + LLC: 1,024 + 3 bytes each, the last block shorter. One transmission.
    const t = transmissions(setup.wire);
    expect(t).toContainEqual(['M>I1S', 'M>I2', 'M>I3S', 'M>I4', 'M>I5P']);
  });

  it('GBT window 2 over HDLC: an acknowledgement after every second block', async () => {
    const { data, setup } = await readHdlcDay({ client: { gbt: { window: 2 } } });
    expect(encodeData(data)).toEqual(reference);
    expect(dataShape(setup).slice(-5)).toEqual(['u1L', 'd1s', 'd2', 'ua2w2', 'd3L']);
  });

  it('HDLC window boundaries inside the GBT burst (128-byte frames, window 3): RR between transmissions', async () => {
    const { data, setup } = await readHdlcDay({ hdlc: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 3, windowRx: 3 } });
    expect(encodeData(data)).toEqual(reference);
    // GBT sees the same stream: no acknowledgement inside the burst.
    expect(dataShape(setup).slice(-4)).toEqual(['u1L', 'd1s', 'd2s', 'd3L']);
    const t = transmissions(setup.wire);
    const meterRuns = t.filter((r) => r[0]?.startsWith('M>I') === true && r.length === 3);
    expect(meterRuns.length).toBeGreaterThanOrEqual(6);
    expect(t).toContainEqual(['C>RRP']);
    // 1,027 bytes = 9 frames: block 1 ends with the window's F; GBT still expects blocks, so the
    // client polls for them (RR) instead of waiting.
    const boundary = t.findIndex((r, i) => i < t.length - 1 && /^M>I\dP$/.test(r.at(-1) ?? '') && r.length === 3);
    expect(boundary).toBeGreaterThan(0);
    expect(t[boundary + 1]).toEqual(['C>RRP']);
  });

  it('a frame lost inside the burst is recovered by HDLC, GBT does not notice', async () => {
    let lostOne = false;
    const { data, setup } = await readHdlcDay({
      frameLoss: (dir, frame) => {
        // The second frame of the first long meter transmission.
        const lose = !lostOne && dir === 'down' && frame.control.kind === 'I' && !frame.control.pf && frame.info.length < 10;
        if (lose) lostOne = true;
        return lose;
      },
    });
    expect(lostOne).toBe(true);
    expect(encodeData(data)).toEqual(reference);
    expect(dataShape(setup).slice(-4)).toEqual(['u1L', 'd1s', 'd2s', 'd3L']);
    expect(setup.wire.some((w) => w.lost)).toBe(true);
  });

  it('an image transfer: both GBT blocks of every image block in one client transmission', async () => {
    const setup = gbtSetup({ framing: 'hdlc', meter: { imageTransfer: { blockSize: 1024 } } });
    await setup.client.connect();
    const report = await transferImage(setup.client, { identifier: new TextEncoder().encode('FW-HDLC'), image: IMAGE, pollIntervalMs: 10 });
    expect(report.status).toBe(6);
    await setup.client.close();
    const s = shape(setup.traffic);
    // Block 1 streaming then block 2 last, no acknowledgement between them.
    let pairs = 0;
    for (let i = 0; i + 1 < s.length; i++) if (s[i] === 'u1s' && s[i + 1] === 'u2L') pairs++;
    expect(pairs).toBeGreaterThanOrEqual(5);
    // On the wire: 1,024 + 3 + the short block in one transmission, P on the last frame.
    const t = transmissions(setup.wire).filter((r) => r.length === 3 && r[0]?.startsWith('C>I') === true);
    expect(t.length).toBeGreaterThanOrEqual(5);
    for (const r of t) expect(r.map((f) => f.replace(/I\d/, 'I'))).toEqual(['C>IS', 'C>I', 'C>IP']);
  });
});
