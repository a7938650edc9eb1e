/**
 * Campaign refusals and policies on a small virtual line: an image for another model is
 * refused before any block (no meter ever sees image_transfer_initiate); a meter that refuses
 * the image identifier ends KO refused; a meter whose verification fails is retried, then KO
 * verify-failed (field-work order); activation on command; an image that does not verify
 * any more is refused at campaign start with the reason.
 */
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startVirtualDcu, type VirtualDcu } from '../../../bench/virtual-dcu';
import { runFirmwareCommand } from '../../../daemon/firmware/commands';
import { ErrorCode } from '../../../protocol/common/errors';
import { meterSerial } from '../../../sim/config';
import type { SimMeter } from '../../../sim/meter';
import { SIM_KEYS } from '../../../sim/types';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = Date.UTC(2026, 2, 2, 10, 0);
const serial = (i: number): string => meterSerial('SIM', i);
const IMAGE = Uint8Array.from({ length: 2000 }, (_, i) => (i * 13) & 0xff);
const SHA = createHash('sha256').update(IMAGE).digest('hex');
const PICKY = serial(1);
const FAULTY = serial(2);

describe('firmware campaign refusals and policies', () => {
  let v: VirtualDcu;
  const sim = (s: string): SimMeter | undefined => v.fleet.slots.find((x) => x.spec.serial === s)?.peek() as SimMeter | undefined;

  beforeAll(async () => {
    v = await startVirtualDcu({
      start: START,
      meters: 4,
      lines: 1,
      baud: 9600,
      latencyMs: 20,
      profileDepthDays: 1,
      meterOptions: (s) => ({ imageTransfer: { blockSize: 128, ...(s === PICKY ? { acceptIdentifierPrefix: 'OTHER-' } : {}), ...(s === FAULTY ? { failVerification: true } : {}) } }),
      meterConfig: () => ({ client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { blockKey: SIM_KEYS.blockKey, authKey: SIM_KEYS.authKey } }),
      line: { timeout: '2s', retries: 1 },
      config: { timeZone: 'UTC' },
    });
  }, 60_000);
  afterAll(async () => {
    await v.stop();
  }, 60_000);

  it('refuses an image for another model before any block', async () => {
    const fw = v.daemon.firmware;
    fw.images.upload({ id: 'other-model', version: 'XYZ-FW-9', size: IMAGE.length, sha256: SHA, model: 'XYZ' }, IMAGE);
    const c = fw.campaigns.create({ image: 'other-model', all: true, retries: 0, deadline: '2h' }, 'local').campaign.id;
    await v.runUntil(START + 30 * MIN);
    const s = fw.campaigns.status(c);
    expect(s.meters.map((m) => [m.state, m.reason])).toEqual(Array(4).fill(['KO', 'refused']));
    expect(s.meters[0]?.detail).toMatch(/for model XYZ/);
    for (const slot of v.fleet.slots) expect(sim(slot.spec.serial)?.core.imageState().status ?? 'not-initiated').toBe('not-initiated');
    expect(s.state).toBe('done');
    // Now the registry knows the meters' model: a second campaign with it is refused at once.
    expect(() => fw.campaigns.create({ image: 'other-model', all: true }, 'local')).toThrow(/is for model XYZ; none of the 4 meters is/);
  });

  it('updates on command (manual activation); a picky meter refuses, a faulty one is retried then KO verify-failed', async () => {
    const fw = v.daemon.firmware;
    fw.images.upload({ id: 'good', version: 'SIM-FW-3.0.0', size: IMAGE.length, sha256: SHA, model: 'DCU' }, IMAGE);
    const c = (runFirmwareCommand(fw, 'fw-campaign-create', { image: 'good', all: true, retries: 1, retryInterval: '5m', activate: 'manual', deadline: '4h' }, 'hes') as { campaign: string }).campaign;
    await v.runUntil(START + HOUR);
    let s = fw.campaigns.status(c);
    const byMeter = Object.fromEntries(s.meters.map((m) => [m.meter, m]));
    expect(byMeter[PICKY]).toMatchObject({ state: 'KO', reason: 'refused' });
    expect(byMeter[FAULTY]).toMatchObject({ state: 'KO', reason: 'verify-failed', attempts: 2 });
    expect(byMeter[serial(0)]?.state).toBe('ready');
    expect(sim(serial(0))?.core.firmwareId).toBe('SIM-FW-1.0.0');
    fw.campaigns.activate(c);
    await v.runUntil(START + 2 * HOUR);
    s = fw.campaigns.status(c);
    expect(s.counts).toEqual({ OK: 2, KO: 2 });
    expect(sim(serial(0))?.core.firmwareId).toBe('SIM-FW-3.0.0');
    expect(sim(serial(3))?.core.firmwareId).toBe('SIM-FW-3.0.0');
    expect(s.fieldWorkOrder.map((w) => [w.meter, w.reason])).toEqual([[FAULTY, 'verify-failed']]);
  });

  it('says OK without a transfer to a meter already on the target version', async () => {
    const fw = v.daemon.firmware;
    const c = fw.campaigns.create({ image: 'good', meters: [serial(0)], deadline: '1h' }, 'local').campaign.id;
    await v.runUntil(START + 2 * HOUR + 10 * MIN);
    // The status counts the attempt that went OK, as the fw-meter-result message does.
    expect(fw.campaigns.status(c).meters[0]).toMatchObject({ state: 'OK', attempts: 1 });
    const last = (v.daemon.db.prepare("SELECT payload FROM outbox WHERE stream = 'results' AND payload LIKE '%fw-meter-result%' ORDER BY seq DESC LIMIT 1").get() as { payload: string }).payload;
    expect(JSON.parse(last)).toMatchObject({ meter: serial(0), status: 'OK', transferred: false, attempts: 1 });
  });

  it('refuses to start a campaign on an image that no longer verifies', () => {
    const fw = v.daemon.firmware;
    fw.images.upload({ id: 'tampered', version: 'SIM-FW-4', size: IMAGE.length, sha256: SHA }, IMAGE);
    const file = join(v.config.stateDir, v.daemon.db.prepare("SELECT file FROM fw_images WHERE id = 'tampered'").pluck().get() as string);
    rmSync(file);
    writeFileSync(file, IMAGE.subarray(1));
    expect(() => fw.campaigns.create({ image: 'tampered', all: true }, 'local')).toThrow(expect.objectContaining({ code: ErrorCode.ImageRejected }));
    expect(fw.campaigns.list().some((c) => c.image === 'tampered')).toBe(false);
  });

  it('transfers only inside its time window', async () => {
    const fw = v.daemon.firmware;
    const image = IMAGE.map((b) => b ^ 0x5a);
    fw.images.upload({ id: 'v4', version: 'SIM-FW-4.0.0', size: image.length, sha256: createHash('sha256').update(image).digest('hex') }, image);
    const c = fw.campaigns.create({ image: 'v4', meters: [serial(3)], window: ['14:00-15:00'], deadline: '1d' }, 'local').campaign.id;
    await v.runUntil(Date.UTC(2026, 2, 2, 13, 59));
    expect(fw.campaigns.status(c).meters[0]).toMatchObject({ state: 'queued', progress: 0 });
    expect(sim(serial(3))?.core.imageState().status).toBe('activation-successful');
    await v.runUntil(Date.UTC(2026, 2, 2, 15, 0));
    expect(fw.campaigns.status(c).meters[0]).toMatchObject({ state: 'OK' });
    expect(Buffer.from(sim(serial(3))?.core.imageState().image ?? []).equals(Buffer.from(image))).toBe(true);
    expect(sim(serial(3))?.core.firmwareId).toBe('SIM-FW-4.0.0');
  });

  it('never mixes images: a campaign cancelled mid-transfer, then another image to the same meters', async () => {
    const fw = v.daemon.firmware;
    const a = Uint8Array.from({ length: 12_000 }, (_, i) => (i * 3) & 0xff);
    const b = Uint8Array.from({ length: 12_000 }, (_, i) => (i * 11 + 1) & 0xff);
    const sha = (x: Uint8Array): string => createHash('sha256').update(x).digest('hex');
    fw.images.upload({ id: 'img-a', version: 'SIM-FW-5.0.0', size: a.length, sha256: sha(a) }, a);
    fw.images.upload({ id: 'img-b', version: 'SIM-FW-6.0.0', size: b.length, sha256: sha(b) }, b);
    const ca = fw.campaigns.create({ image: 'img-a', meters: [serial(0), serial(3)], deadline: '1d' }, 'local').campaign.id;
    for (let i = 0; i < 600 && !fw.campaigns.status(ca).meters.some((m) => m.state === 'transferring' && m.progress > 10); i++) await v.runUntil(v.clock.now() + 1000);
    fw.campaigns.cancel(ca);
    await v.runUntil(v.clock.now() + 10 * MIN);
    const partial = sim(serial(0))?.core.imageState();
    expect(new TextDecoder().decode(partial?.identifier)).toBe('SIM-FW-5.0.0');
    expect(partial?.status).toBe('initiated');
    const cb = fw.campaigns.create({ image: 'img-b', meters: [serial(0), serial(3)], deadline: '1d' }, 'local').campaign.id;
    await v.runUntil(v.clock.now() + HOUR);
    expect(fw.campaigns.status(cb).counts).toEqual({ OK: 2 });
    for (const s of [serial(0), serial(3)]) {
      expect(Buffer.from(sim(s)?.core.imageState().image ?? []).equals(Buffer.from(b))).toBe(true);
      expect(sim(s)?.core.firmwareId).toBe('SIM-FW-6.0.0');
    }
    expect(fw.campaigns.status(ca).state).toBe('cancelled');
    expect(fw.campaigns.status(ca).meters.map((m) => [m.state, m.reason])).toEqual([
      ['KO', 'cancelled'],
      ['KO', 'cancelled'],
    ]);
  });
});
