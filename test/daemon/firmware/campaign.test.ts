/**
 * A firmware campaign end to end, in process on a FakeClock (bench/virtual-dcu.ts): the real
 * daemon over two virtual 9,600-baud multi-drop lines with 24 simulated meters; some meters
 * silent part of the time, two silent for the whole campaign, one with a power cut in the
 * middle of its transfer; the daemon stopped and started again on the same store mid-campaign;
 * load-profile collection running all along. Reachable meters end OK with the new version,
 * the silent ones KO unreachable in the field-work-order list, no meter ever gets a block of
 * another image, and the load profile stays complete.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualDcu, type VirtualDcu } from '../../../bench/virtual-dcu';
import Ajv from 'ajv';
import { startDaemon, type Daemon } from '../../../daemon/dcud';
import { FIRMWARE_RESULT_SCHEMAS } from '../../../daemon/firmware/messages';
import { nullLogger } from '../../../protocol/common/log';
import { meterSerial } from '../../../sim/config';
import type { SimMeter } from '../../../sim/meter';
import { SIM_KEYS } from '../../../sim/types';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = Date.UTC(2026, 2, 2, 0, 7);
const serial = (i: number): string => meterSerial('SIM', i);
const VERSION = 'SIM-FW-2.0.0';
const IMAGE = Uint8Array.from({ length: 6000 }, (_, i) => (i * 7 + 3) & 0xff);
const DEAD = [serial(4), serial(11)];
const FLAKY = [serial(2), serial(9), serial(16)];
const CUT = serial(6);

describe('firmware campaign on virtual lines', () => {
  let v: VirtualDcu;
  let daemon: Daemon;
  let stateDir: string;
  let campaign: string;
  let readStatus = '';
  let readLatencyMs = 0;
  let atRestart: Readonly<Record<string, number>> = {};
  const initiated = new Map<string, Set<string>>();

  beforeAll(async () => {
    stateDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'dcu-fw-'));
    v = await startVirtualDcu({
      start: START,
      meters: 24,
      lines: 2,
      baud: 9600,
      latencyMs: 20,
      stateDir,
      profileDepthDays: 2,
      meterOptions: () => ({ imageTransfer: { blockSize: 256, verifyDelayMs: 30_000, activationDelayMs: 10_000 } }),
      meterFaults: {
        ...Object.fromEntries(DEAD.map((s) => [s, { silent: [{ fromMs: 0, toMs: 48 * HOUR }] }])),
        ...Object.fromEntries(FLAKY.map((s) => [s, { silent: [{ fromMs: 0, toMs: 40 * MIN }] }])),
        [CUT]: { powerCutsAtMs: [4 * MIN], powerOutageMs: 5 * MIN },
      },
      // The reading client (LLS) may not run image transfer (sim/meter/access.ts): the management client (HLS-GMAC).
      meterConfig: () => ({ client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { blockKey: SIM_KEYS.blockKey, authKey: SIM_KEYS.authKey } }),
      line: { timeout: '2s', retries: 2 },
      config: { collection: { 'load-profile': { every: '15m', backfill: '3h' } } },
    });
    daemon = v.daemon;
    daemon.collector.start();
    const sha256 = createHash('sha256').update(IMAGE).digest('hex');
    daemon.firmware.images.upload({ id: 'img2', version: VERSION, size: IMAGE.length, sha256, model: 'DCU' }, IMAGE);
    campaign = daemon.firmware.campaigns.create({ image: 'img2', all: true, retries: 3, retryInterval: '10m', deadline: '6h' }, 'local').campaign.id;
    await v.runUntil(START + MIN);
    // An on-demand read in the middle of the transfers: the campaign yields between two blocks.
    const asked = v.clock.now();
    const read = await v.runWhile(daemon.readNow(serial(13), ['registers']));
    readStatus = read.status;
    readLatencyMs = v.clock.now() - asked;
    await v.runUntil(START + 3 * MIN);
    // The daemon stops mid-campaign (meters in the middle of their transfer) and starts again on the same store.
    atRestart = daemon.firmware.campaigns.status(campaign).counts;
    await v.runWhile(daemon.stop());
    daemon = startDaemon(v.config, { clock: v.clock, logger: nullLogger, openSerialLine: (l) => v.lines.open(l.serial.path, l.serial.baud) });
    daemon.collector.start();
    await v.runUntil(START + 7 * HOUR);
    for (const slot of v.fleet.slots) {
      const m = slot.peek() as SimMeter | undefined;
      if (m === undefined) continue;
      initiated.set(slot.spec.serial, new Set([new TextDecoder().decode(m.core.imageState().identifier)]));
    }
  }, 600_000);

  afterAll(async () => {
    await v.runWhile(daemon.stop());
    await v.fleet.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('ends every reachable meter OK with the new version; the silent ones KO unreachable, in the field-work order', () => {
    const s = daemon.firmware.campaigns.status(campaign);
    const ok = s.meters.filter((m) => m.state === 'OK').map((m) => m.meter);
    const ko = s.meters.filter((m) => m.state === 'KO');
    expect(ko.map((m) => m.meter).sort()).toEqual([...DEAD].sort());
    expect(ko.every((m) => m.reason === 'unreachable' || m.reason === 'deadline-passed')).toBe(true);
    expect(ok.length).toBe(22);
    for (const meter of ok) {
      const m = v.fleet.slots.find((x) => x.spec.serial === meter)?.peek() as SimMeter;
      expect(m.core.firmwareId).toBe(VERSION);
    }
    expect(s.state).toBe('done');
    expect(s.fieldWorkOrder.map((w) => w.meter).sort()).toEqual([...DEAD].sort());
  });

  it('lets an on-demand read through between two blocks', () => {
    expect(readStatus).toBe('EXE');
    expect(readLatencyMs).toBeLessThan(15_000);
  });

  it('was stopped mid-campaign, with transfers under way', () => {
    expect(atRestart.transferring ?? 0).toBeGreaterThan(0);
    expect(atRestart.OK ?? 0).toBeLessThan(22);
  });

  it('reports each meter once to the HES and the campaign end with the field-work order', () => {
    const results = (daemon.db.prepare("SELECT payload FROM outbox WHERE stream = 'results'").all() as { payload: string }[]).map((r) => JSON.parse(r.payload) as { type: string; meter?: string; status?: string });
    const ajv = new Ajv({ strict: false });
    const invalid = results.filter((r) => r.type in FIRMWARE_RESULT_SCHEMAS && !ajv.validate(FIRMWARE_RESULT_SCHEMAS[r.type as keyof typeof FIRMWARE_RESULT_SCHEMAS], r));
    expect(invalid).toEqual([]);
    // transferring, verifying, ready, activating for each updated meter (confirming only when the meter confirms at once).
    expect(results.filter((r) => r.type === 'fw-meter-progress').length).toBeGreaterThanOrEqual(22 * 4);
    const final = results.filter((r) => r.type === 'fw-meter-result');
    // Coherent after the update: registers not backwards, the firmware-activated event logged.
    expect(final.filter((r) => 'warn' in r)).toEqual([]);
    expect(new Set(final.map((r) => r.meter)).size).toBe(final.length);
    expect(final.filter((r) => r.status === 'OK').length).toBe(22);
    expect(results.filter((r) => r.type === 'fw-campaign-done').length).toBe(1);
    const wo = results.find((r) => r.type === 'field-work-order') as { meters: { meter: string }[] } | undefined;
    expect(wo?.meters.map((m) => m.meter).sort()).toEqual([...DEAD].sort());
  });

  it('never initiated another image on any meter', () => {
    for (const [meter, ids] of initiated) {
      if (DEAD.includes(meter)) continue;
      expect([meter, [...ids]]).toEqual([meter, [VERSION]]);
    }
  });

  it('keeps collecting the load profile during the campaign', () => {
    // From the start (the flaky meters are backfilled 3 h back from when they first answer).
    const first = Math.ceil(START / (15 * MIN)) * 15 * MIN;
    const last = START + 6 * HOUR;
    for (const slot of v.fleet.slots) {
      if (DEAD.includes(slot.spec.serial)) continue;
      const n = (daemon.db.prepare('SELECT count(*) AS n FROM profile_rows WHERE meter = ? AND captured_at BETWEEN ? AND ?').get(slot.spec.serial, first, last) as { n: number }).n;
      expect([slot.spec.serial, n]).toEqual([slot.spec.serial, Math.floor((last - first) / (15 * MIN)) + 1]);
    }
  });
});
