import { encodeData } from '../../../protocol/axdr/codec';
import { transferImage } from '../../../protocol/client/image-transfer';
import { obis } from '../../../protocol/cosem/obis';
import { decoded, gbtSetup, gbts, shape, DAY, IMAGE, PROFILE, readDay } from './gbt-harness';



let reference: Uint8Array;

beforeAll(async () => {
  // The same read without GBT: the bytes every GBT variant must reproduce.
  const { data, setup } = await readDay({ meter: { generalBlockTransfer: false } });
  reference = encodeData(data);
  expect(reference.length).toBeGreaterThan(2 * 1024);
  expect(gbts(setup.traffic)).toHaveLength(0);
});

describe('GBT round trips (wrapper: streaming)', () => {
  it('streams a long answer in one burst within our window (default 16)', async () => {
    const { data, setup, granted } = await readDay({});
    expect(granted).toBe(true);
    expect(encodeData(data)).toEqual(reference);
    const s = shape(setup.traffic).filter((x) => !x.startsWith('ua') && !x.startsWith('da'));
    // The request went as one GBT block; the answer came as 3 streamed blocks, no acknowledgement in between.
    expect(s.slice(-4)).toEqual(['u1L', 'd1s', 'd2s', 'd3L']);
  });

  it('window 1: the meter sends one block per acknowledgement', async () => {
    const { data, setup } = await readDay({ client: { gbt: { window: 1 } } });
    expect(encodeData(data)).toEqual(reference);
    expect(shape(setup.traffic).slice(-6)).toEqual(['u1L', 'd1', 'ua1w1', 'd2', 'ua2w1', 'd3L']);
  });

  it('window 2: acknowledgement after every second block', async () => {
    const { data, setup } = await readDay({ client: { gbt: { window: 2 } } });
    expect(encodeData(data)).toEqual(reference);
    expect(shape(setup.traffic).slice(-5)).toEqual(['u1L', 'd1s', 'd2', 'ua2w2', 'd3L']);
  });

  it('a long request (1,024-byte image block under a 1,024-byte PDU) streams as two GBT blocks', async () => {
    const setup = gbtSetup({ meter: { imageTransfer: { blockSize: 1024 } } });
    await setup.client.connect();
    const report = await transferImage(setup.client, { identifier: new TextEncoder().encode('FW-GBT'), image: IMAGE, pollIntervalMs: 10 });
    expect(report.status).toBe(6);
    await setup.client.close();
    const up = gbts(setup.traffic).filter((x) => x.dir === 'up' && x.g.data.length > 0);
    // Every image block: block 1 streaming, block 2 last, after the meter's window was learned.
    const pairs = up.filter((x) => x.g.blockNumber === 2 && x.g.lastBlock);
    expect(pairs.length).toBeGreaterThanOrEqual(5);
    for (const x of up) expect(x.g.data.length + 9).toBeLessThanOrEqual(1024);
    // No service-specific pblocks on the wire.
    expect(decoded(setup.traffic).some((x) => x.apdu.type === 'action-request' && x.apdu.kind !== 'normal')).toBe(false);
  });
});

describe('lost GBT blocks (wrapper)', () => {
  it('a block lost in the middle of the meter’s burst is asked for again', async () => {
    let dropped = false;
    const { data, setup } = await readDay({
      loss: (dir, apdu) => {
        const lose = !dropped && dir === 'down' && apdu[0] === 0xe0 && apdu[2] === 0 && apdu[3] === 2 && (apdu[1] ?? 0) & 0x40 ? true : false;
        if (lose) dropped = true;
        return lose;
      },
    });
    expect(dropped).toBe(true);
    expect(encodeData(data)).toEqual(reference);
    // Block 2 missing, 3 held: acknowledge 1 with window 1 → block 2 again.
    expect(shape(setup.traffic).slice(-4)).toEqual(['d1s', 'd3L', 'ua1w1', 'd2']);
  });

  it('the last block of a burst lost: silence, then an acknowledgement brings it again', async () => {
    let dropped = false;
    const { data, setup } = await readDay({
      loss: (dir, apdu) => {
        const lose = !dropped && dir === 'down' && apdu[0] === 0xe0 && ((apdu[1] ?? 0) & 0x80) !== 0;
        if (lose) dropped = true;
        return lose;
      },
    });
    expect(encodeData(data)).toEqual(reference);
    expect(shape(setup.traffic).slice(-4)).toEqual(['d1s', 'd2s', 'ua2w16', 'd3L']);
  });

  it('a request block lost on the way to the meter is sent again', async () => {
    let dropped = false;
    const setup = gbtSetup({
      meter: { imageTransfer: { blockSize: 1024 } },
      loss: (dir, apdu) => {
        // The first block of the second image block request.
        const lose = !dropped && dir === 'up' && apdu[0] === 0xe0 && apdu.length > 900 && (apdu[1] ?? 0) & 0x40 ? true : false;
        if (lose) dropped = true;
        return lose;
      },
    });
    await setup.client.connect();
    const report = await transferImage(setup.client, { identifier: new TextEncoder().encode('FW-GBT'), image: IMAGE, pollIntervalMs: 10 });
    expect(dropped).toBe(true);
    expect(report.status).toBe(6);
    await setup.client.close();
    // The meter held block 2 only: it acknowledged 0 with window 1, and block 1 came again.
    expect(shape(setup.traffic)).toEqual(expect.arrayContaining(['da0w1']));
  });
});

describe('interleaving and fallback', () => {
  it('GBT exchanges and short requests alternate in one association', async () => {
    const setup = gbtSetup({ meter: { imageTransfer: { blockSize: 1024 } } });
    await setup.client.connect();
    const clock = await setup.client.getValue({ classId: 8, obis: obis('0.0.1.0.0.255'), index: 2 });
    const day = await setup.client.getValue(PROFILE, DAY);
    const size = await setup.client.getValue({ classId: 18, obis: obis('0.0.44.0.0.255'), index: 2 });
    const again = await setup.client.getValue(PROFILE, DAY);
    await setup.client.close();
    expect(clock.type).toBe('octet-string');
    expect(size).toEqual({ type: 'uint32', value: 1024 });
    expect(encodeData(day)).toEqual(reference);
    expect(encodeData(again)).toEqual(reference);
  });

  it('GBT switched off on our side: service-specific blocks as before', async () => {
    const { data, setup, granted } = await readDay({ client: { gbt: { enabled: false } } });
    expect(granted).toBe(false);
    expect(encodeData(data)).toEqual(reference);
    expect(gbts(setup.traffic)).toHaveLength(0);
    expect(decoded(setup.traffic).some((x) => x.apdu.type === 'get-request' && x.apdu.kind === 'next')).toBe(true);
  });

  it('GBT not granted: GET with blocks and ACTION pblocks, no E0 on the wire', async () => {
    const setup = gbtSetup({ meter: { generalBlockTransfer: false, imageTransfer: { blockSize: 1024 } } });
    await setup.client.connect();
    expect(setup.client.negotiated.conformance.has('general-block-transfer')).toBe(false);
    const report = await transferImage(setup.client, { identifier: new TextEncoder().encode('FW'), image: IMAGE, pollIntervalMs: 10 });
    expect(report.status).toBe(6);
    await setup.client.close();
    expect(gbts(setup.traffic)).toHaveLength(0);
    expect(decoded(setup.traffic).some((x) => x.apdu.type === 'action-request' && x.apdu.kind === 'with-first-pblock')).toBe(true);
  });
});
