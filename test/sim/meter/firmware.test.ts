import { createHash } from 'node:crypto';
import { ActionResult } from '../../../protocol/apdu/results';
import type { Data } from '../../../protocol/axdr/data';
import type { DlmsClient } from '../../../protocol/client/client';
import { createSimMeter, EventCode, METER_OBJECTS } from '../../../sim/meter';
import { createRng } from '../../../sim/prng';
import { connect, newMeter } from './station';

const IT = METER_OBJECTS.imageTransfer;
const attr = (index: number) => ({ classId: 18, obis: IT.obis, index });
const method = (index: number) => ({ classId: 18, obis: IT.obis, index });
const te = new TextEncoder();
const ZERO: Data = { type: 'int8', value: 0 };

function image(size: number, seed = 7): Uint8Array {
  const r = createRng(seed);
  return Uint8Array.from({ length: size }, () => r.int(256));
}

async function num(c: DlmsClient, index: number): Promise<number> {
  const d = await c.getValue(attr(index));
  if (d.type !== 'uint32' && d.type !== 'enum') throw new Error(`unexpected ${d.type}`);
  return d.value;
}

async function initiate(c: DlmsClient, id: string, size: number): Promise<number> {
  const p: Data = { type: 'structure', items: [{ type: 'octet-string', value: te.encode(id) }, { type: 'uint32', value: size }] };
  return (await c.action(method(1), p)).result;
}

async function sendBlocks(c: DlmsClient, img: Uint8Array, blockSize: number, from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) {
    const value = img.subarray(n * blockSize, Math.min(img.length, (n + 1) * blockSize));
    const p: Data = { type: 'structure', items: [{ type: 'uint32', value: n }, { type: 'octet-string', value }] };
    const r = (await c.action(method(2), p)).result;
    if (r !== ActionResult.success) throw new Error(`block ${n}: result ${r}`);
  }
}

async function firmwareId(c: DlmsClient): Promise<string> {
  const d = await c.getValue({ classId: 1, obis: METER_OBJECTS.firmwareId.obis, index: 2 });
  return d.type === 'octet-string' ? new TextDecoder().decode(d.value) : '';
}

describe('simulated meter: firmware upgrade through image transfer (IC 18)', () => {
  const SIZE = 256 * 1024;
  const img = image(SIZE);

  it('transfers a 256 KiB image block by block, verifies and activates it', async () => {
    const { meter } = newMeter();
    const c = await connect(meter.handler, 'manager');
    const blockSize = await num(c, 2);
    const blocks = Math.ceil(SIZE / blockSize);
    expect(await initiate(c, 'SIM-FW-2.0.0', SIZE)).toBe(ActionResult.success);
    expect(await num(c, 6)).toBe(1);
    await sendBlocks(c, img, blockSize, 0, blocks);
    expect(await num(c, 4)).toBe(blocks);
    const bits = await c.getValue(attr(3));
    expect(bits).toMatchObject({ type: 'bit-string', length: blocks });
    expect(bits.type === 'bit-string' && bits.value.every((b) => b === 0xff)).toBe(true);

    expect((await c.action(method(3), ZERO)).result).toBe(ActionResult.success);
    expect(await num(c, 6)).toBe(3);
    const info = await c.getValue(attr(7));
    expect(info).toEqual({
      type: 'array',
      items: [
        {
          type: 'structure',
          items: [
            { type: 'uint32', value: SIZE },
            { type: 'octet-string', value: te.encode('SIM-FW-2.0.0') },
            { type: 'octet-string', value: Uint8Array.from(createHash('sha256').update(img).digest()) },
          ],
        },
      ],
    });
    expect(await firmwareId(c)).toBe('SIM-FW-1.0.0');
    expect((await c.action(method(4), ZERO)).result).toBe(ActionResult.success);
    expect(await num(c, 6)).toBe(6);
    expect(await firmwareId(c)).toBe('SIM-FW-2.0.0');
    expect(meter.core.standardLog.entries().map((e) => e.code)).toEqual([EventCode.firmwareReadyForActivation, EventCode.firmwareActivated]);
    await c.close();
  });

  it('tells listeners every image input with the identifier the meter held then', () => {
    const { meter } = newMeter({ imageTransfer: { blockSize: 4 } });
    const seen: string[] = [];
    const off = meter.core.onImageStep((input, before, step) => {
      if (input.type === 'block') seen.push(`${new TextDecoder().decode(before.identifier)}:${input.number}:${step.result}`);
    });
    meter.core.imageStep({ type: 'initiate', identifier: te.encode('A'), size: 8 });
    meter.core.imageStep({ type: 'block', number: 0, value: Uint8Array.of(1, 2, 3, 4) });
    meter.core.imageStep({ type: 'initiate', identifier: te.encode('B'), size: 8 });
    meter.core.imageStep({ type: 'block', number: 1, value: Uint8Array.of(5, 6, 7, 8) });
    off();
    meter.core.imageStep({ type: 'block', number: 0, value: Uint8Array.of(5, 6, 7, 8) });
    expect(seen).toEqual([`A:0:${ActionResult.success}`, `B:1:${ActionResult.success}`]);
  });

  it('resumes an interrupted transfer after snapshot → new meter → restore', async () => {
    const { meter, clock, spec } = newMeter();
    const c = await connect(meter.handler, 'manager');
    const blockSize = await num(c, 2);
    const blocks = Math.ceil(SIZE / blockSize);
    const cut = 1 + createRng(42).int(blocks - 2);
    expect(await initiate(c, 'SIM-FW-3.0.0', SIZE)).toBe(ActionResult.success);
    await sendBlocks(c, img, blockSize, 0, cut);
    meter.powerCut();
    const saved: unknown = JSON.parse(JSON.stringify(meter.snapshot()));

    const next = createSimMeter(spec, { clock });
    next.restore(saved);
    const c2 = await connect(next.handler, 'manager');
    expect(await num(c2, 6)).toBe(1);
    const resumeAt = await num(c2, 4);
    expect(resumeAt).toBe(cut);
    // Initiating the same image again keeps what was received.
    expect(await initiate(c2, 'SIM-FW-3.0.0', SIZE)).toBe(ActionResult.success);
    expect(await num(c2, 4)).toBe(cut);
    await sendBlocks(c2, img, blockSize, resumeAt, blocks);
    expect((await c2.action(method(3), ZERO)).result).toBe(ActionResult.success);
    expect((await c2.action(method(4), ZERO)).result).toBe(ActionResult.success);
    expect(await firmwareId(c2)).toBe('SIM-FW-3.0.0');
    const info = await c2.getValue(attr(7));
    expect(info.type === 'array' && info.items[0]?.type === 'structure' && info.items[0].items[2]).toEqual({
      type: 'octet-string',
      value: Uint8Array.from(createHash('sha256').update(img).digest()),
    });
    await c2.close();
  });

  it('answers temporary-failure while verifying and activating with delays; the client polls the status', async () => {
    const { meter, clock } = newMeter({ imageTransfer: { blockSize: 128, verifyDelayMs: 5_000, activationDelayMs: 20_000 } });
    const c = await connect(meter.handler, 'manager');
    const small = image(1000);
    await initiate(c, 'FW-D', small.length);
    await sendBlocks(c, small, 128, 0, 8);
    expect((await c.action(method(3), ZERO)).result).toBe(ActionResult.temporaryFailure);
    expect(await num(c, 6)).toBe(2);
    clock.advance(5_000);
    expect(await num(c, 6)).toBe(3);
    expect((await c.action(method(4), ZERO)).result).toBe(ActionResult.temporaryFailure);
    expect(await num(c, 6)).toBe(5);
    clock.advance(19_999);
    expect((await c.action(method(4), ZERO)).result).toBe(ActionResult.temporaryFailure);
    expect(await firmwareId(c)).toBe('SIM-FW-1.0.0');
    clock.advance(1);
    expect(await num(c, 6)).toBe(6);
    expect(await firmwareId(c)).toBe('FW-D');
    await c.close();
  });

  it('fails verification on a missing block, a size mismatch or an injected fault; activation on an injected fault', async () => {
    const small = image(1000);
    const run = async (opts: Parameters<typeof newMeter>[0], send: (c: DlmsClient) => Promise<void>): Promise<{ verify: number; status: number; c: DlmsClient }> => {
      const { meter } = newMeter(opts);
      const c = await connect(meter.handler, 'manager');
      await initiate(c, 'FW-X', small.length);
      await send(c);
      const verify = (await c.action(method(3), ZERO)).result;
      return { verify, status: await num(c, 6), c };
    };
    const missing = await run({ imageTransfer: { blockSize: 128 } }, (c) => sendBlocks(c, small, 128, 0, 7));
    expect([missing.verify, missing.status]).toEqual([ActionResult.otherReason, 4]);
    expect(await num(missing.c, 4)).toBe(7);

    const short = await run({ imageTransfer: { blockSize: 128 } }, async (c) => {
      await sendBlocks(c, small, 128, 0, 7);
      await c.action(method(2), { type: 'structure', items: [{ type: 'uint32', value: 7 }, { type: 'octet-string', value: small.subarray(896, 990) }] });
    });
    expect([short.verify, short.status]).toEqual([ActionResult.otherReason, 4]);

    const faulty = await run({ imageTransfer: { blockSize: 128, failVerification: true } }, (c) => sendBlocks(c, small, 128, 0, 8));
    expect([faulty.verify, faulty.status]).toEqual([ActionResult.otherReason, 4]);
    expect((await faulty.c.action(method(4), ZERO)).result).toBe(ActionResult.otherReason);

    const noActivation = await run({ imageTransfer: { blockSize: 128, failActivation: true } }, (c) => sendBlocks(c, small, 128, 0, 8));
    expect(noActivation.verify).toBe(ActionResult.success);
    expect((await noActivation.c.action(method(4), ZERO)).result).toBe(ActionResult.otherReason);
    expect(await num(noActivation.c, 6)).toBe(7);
    expect(await firmwareId(noActivation.c)).toBe('SIM-FW-1.0.0');
    for (const r of [missing, short, faulty, noActivation]) await r.c.close();
  });

  it('fault knobs: the new firmware restarts the energy registers, or logs no firmware-activated event', () => {
    const update = (imageTransfer: Record<string, unknown>) => {
      const { meter, clock } = newMeter({ imageTransfer: { blockSize: 128, ...imageTransfer } });
      const core = meter.core;
      clock.advance(3_600_000);
      const before = core.energyNow().activeImport;
      core.imageStep({ type: 'initiate', identifier: te.encode('SIM-FW-9'), size: 100 });
      core.imageStep({ type: 'block', number: 0, value: new Uint8Array(100) });
      core.imageStep({ type: 'verify', now: core.clock.now() });
      core.imageStep({ type: 'activate', now: core.clock.now() });
      expect(core.firmwareId).toBe('SIM-FW-9');
      clock.advance(60_000);
      return { before, after: core.energyNow().activeImport, activated: core.standardLog.entries().filter((e) => e.code === EventCode.firmwareActivated).length };
    };
    const plain = update({});
    expect(plain.after).toBeGreaterThanOrEqual(plain.before);
    expect(plain.activated).toBe(1);
    const reset = update({ activationResetsRegisters: true });
    expect(reset.after).toBeLessThan(reset.before);
    expect(reset.activated).toBe(1);
    expect(update({ activationWithoutEvent: true }).activated).toBe(0);
  });

  it('refuses blocks when disabled, out of range or too long, and an oversized image', async () => {
    const { meter } = newMeter({ imageTransfer: { blockSize: 128, maxImageSize: 4096 } });
    const c = await connect(meter.handler, 'manager');
    expect(await initiate(c, 'BIG', 4097)).toBe(ActionResult.otherReason);
    expect(await initiate(c, 'OK', 1000)).toBe(ActionResult.success);
    const block = (n: number, len: number) => c.action(method(2), { type: 'structure', items: [{ type: 'uint32', value: n }, { type: 'octet-string', value: new Uint8Array(len) }] });
    expect((await block(8, 10)).result).toBe(ActionResult.otherReason);
    expect((await block(0, 129)).result).toBe(ActionResult.otherReason);
    expect(await c.set(attr(5), { type: 'boolean', value: false })).toBe(0);
    expect((await block(0, 128)).result).toBe(ActionResult.otherReason);
    expect((await c.action(method(2), { type: 'uint8', value: 1 })).result).not.toBe(ActionResult.success);
    await c.close();
  });

  it('keeps the public and reader clients away from image transfer', async () => {
    const { meter } = newMeter();
    const reader = await connect(meter.handler, 'reader');
    expect((await reader.action(method(1), { type: 'structure', items: [{ type: 'octet-string', value: te.encode('X') }, { type: 'uint32', value: 10 }] })).result).toBe(
      ActionResult.readWriteDenied,
    );
    await reader.close();
  });
});
