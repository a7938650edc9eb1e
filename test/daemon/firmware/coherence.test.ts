/**
 * Post-update coherence (daemon/firmware/coherence.ts) on its WARN path, in process on a
 * FakeClock: a meter whose new firmware restarted its energy registers (they went backwards
 * across the update) and one whose activation left no firmware-activated event both end OK
 * (the new version runs) with a WARN that says why, in the campaign status and in the
 * `fw-meter-result` the HES gets; a coherent meter has no WARN.
 */
import Ajv from 'ajv';
import { createHash } from 'node:crypto';
import { startVirtualDcu, type VirtualDcu } from '../../../bench/virtual-dcu';
import type { CampaignStatus } from '../../../daemon/firmware/campaigns';
import { FIRMWARE_RESULT_SCHEMAS } from '../../../daemon/firmware/messages';
import { meterSerial } from '../../../sim/config';
import type { SimMeterOptionsInput } from '../../../sim/meter';
import { SIM_KEYS } from '../../../sim/types';

const START = Date.UTC(2026, 2, 2, 0, 7);
const VERSION = 'SIM-FW-5.0.0';
const IMAGE = Uint8Array.from({ length: 2000 }, (_, i) => (i * 3 + 1) & 0xff);
const FINE = meterSerial('SIM', 0);
const BACKWARDS = meterSerial('SIM', 1);
const NO_EVENT = meterSerial('SIM', 2);

interface Result {
  type: string;
  meter: string;
  status: string;
  firmware?: string;
  warn?: string[];
}

describe('firmware coherence after the update', () => {
  let v: VirtualDcu;
  let status: CampaignStatus;
  let results: Result[];

  beforeAll(async () => {
    const faults: Record<string, SimMeterOptionsInput['imageTransfer']> = { [BACKWARDS]: { activationResetsRegisters: true }, [NO_EVENT]: { activationWithoutEvent: true } };
    v = await startVirtualDcu({
      start: START,
      meters: 3,
      lines: 1,
      baud: 9600,
      latencyMs: 20,
      profileDepthDays: 1,
      meterOptions: (serial) => ({ imageTransfer: { blockSize: 256, verifyDelayMs: 5_000, activationDelayMs: 5_000, ...faults[serial] } }),
      meterConfig: () => ({ client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { blockKey: SIM_KEYS.blockKey, authKey: SIM_KEYS.authKey } }),
      line: { timeout: '2s', retries: 2 },
      config: {},
    });
    const fw = v.daemon.firmware;
    fw.images.upload({ id: 'img5', version: VERSION, size: IMAGE.length, sha256: createHash('sha256').update(IMAGE).digest('hex') }, IMAGE);
    const id = fw.campaigns.create({ image: 'img5', all: true, pollInterval: '10s', deadline: '1d' }, 'local').campaign.id;
    while (fw.campaigns.status(id).state === 'running') await v.runUntil(v.clock.now() + 5 * 60_000);
    status = fw.campaigns.status(id);
    results = (v.daemon.db.prepare("SELECT payload FROM outbox WHERE stream = 'results'").all() as { payload: string }[]).map((r) => JSON.parse(r.payload) as Result).filter((r) => r.type === 'fw-meter-result');
  }, 120_000);
  afterAll(() => v.stop());

  const result = (meter: string): Result | undefined => results.find((r) => r.meter === meter);
  const row = (meter: string): CampaignStatus['meters'][number] | undefined => status.meters.find((m) => m.meter === meter);

  it('ends every meter OK with the new version: a WARN is never a KO', () => {
    expect(status.counts).toEqual({ OK: 3 });
    expect(results.map((r) => [r.meter, r.status, r.firmware]).sort()).toEqual([FINE, BACKWARDS, NO_EVENT].map((m) => [m, 'OK', VERSION]));
    const ajv = new Ajv({ strict: false });
    for (const r of results) expect([r.meter, ajv.validate(FIRMWARE_RESULT_SCHEMAS['fw-meter-result'], r)]).toEqual([r.meter, true]);
  });

  it('has no WARN for a coherent meter', () => {
    expect(result(FINE)?.warn).toBeUndefined();
    expect(row(FINE)?.detail).toBeNull();
  });

  it('WARNs when the energy registers went backwards across the update, naming the register and both values', () => {
    const warn = result(BACKWARDS)?.warn ?? [];
    expect(warn.length).toBeGreaterThanOrEqual(1);
    expect(warn[0]).toMatch(/1\.0\.1\.8\.0\.255 went backwards after the update: \d+ → \d+/);
    expect(warn.some((w) => /firmware-activated/.test(w))).toBe(false);
    expect(row(BACKWARDS)).toMatchObject({ state: 'OK', reason: null });
    expect(row(BACKWARDS)?.detail).toMatch(/^WARN: .*went backwards after the update/);
  });

  it('WARNs when the event log has no firmware-activated event since the campaign started', () => {
    expect(result(NO_EVENT)?.warn).toEqual(['no firmware-activated event in the meter event log since the campaign started']);
    expect(row(NO_EVENT)).toMatchObject({ state: 'OK', reason: null, detail: 'WARN: no firmware-activated event in the meter event log since the campaign started' });
  });
});
