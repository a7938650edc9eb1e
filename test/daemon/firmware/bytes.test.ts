/**
 * The bytes a campaign puts on the lines, as the daemon counts them per campaign meter
 * (persisted with the progress, migration 013), in process on a FakeClock
 * (bench/virtual-dcu.ts): without faults the image payload sent is exactly image size ×
 * meters and the session bytes are exactly what the virtual line carried; with a power cut
 * mid-transfer and the daemon stopped and started again, the re-sent blocks are counted and
 * the ratio stays ≤ 1.1 per line; the counts come back after the restart.
 */
import Ajv from 'ajv';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVirtualDcu, type VirtualDcu } from '../../../bench/virtual-dcu';
import { startDaemon, type Daemon } from '../../../daemon/dcud';
import { IMAGE_BYTES_GOAL } from '../../../daemon/firmware/bytes';
import type { CampaignStatus } from '../../../daemon/firmware/campaigns';
import { CAMPAIGN_STATUS_SCHEMA } from '../../../daemon/firmware/messages';
import { nullLogger } from '../../../protocol/common/log';
import { meterSerial } from '../../../sim/config';
import type { FaultSpec } from '../../../sim/faults';
import { SIM_KEYS } from '../../../sim/types';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = Date.UTC(2026, 2, 2, 0, 7);
const VERSION = 'SIM-FW-3.0.0';
const IMAGE = Uint8Array.from({ length: 12_000 }, (_, i) => (i * 13 + 5) & 0xff);

async function fleet(o: { meters: number; lines: number; faults?: Readonly<Record<string, FaultSpec>> }, stateDir?: string): Promise<VirtualDcu> {
  const v = await startVirtualDcu({
    start: START,
    meters: o.meters,
    lines: o.lines,
    baud: 9600,
    latencyMs: 20,
    profileDepthDays: 1,
    ...(stateDir === undefined ? {} : { stateDir }),
    meterOptions: () => ({ imageTransfer: { blockSize: 256, verifyDelayMs: 10_000, activationDelayMs: 5_000 } }),
    ...(o.faults === undefined ? {} : { meterFaults: o.faults }),
    meterConfig: () => ({ client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { blockKey: SIM_KEYS.blockKey, authKey: SIM_KEYS.authKey } }),
    line: { timeout: '2s', retries: 2 },
    config: {},
  });
  v.daemon.firmware.images.upload({ id: 'img3', version: VERSION, size: IMAGE.length, sha256: createHash('sha256').update(IMAGE).digest('hex') }, IMAGE);
  return v;
}

const lineTotal = (v: VirtualDcu): number => v.lines.stats().reduce((n, s) => n + s.bytesToMeters + s.bytesFromMeters, 0);

describe('firmware campaign byte counts', () => {
  it('counts image size × meters exactly and every session byte the line carried, without faults', async () => {
    const v = await fleet({ meters: 3, lines: 1 });
    try {
      const fw = v.daemon.firmware.campaigns;
      const before = lineTotal(v);
      const id = fw.create({ image: 'img3', all: true, pollInterval: '10s', deadline: '1d' }, 'local').campaign.id;
      while (fw.status(id).state === 'running') await v.runUntil(v.clock.now() + 10 * MIN);
      const s = fw.status(id);
      expect(s.counts).toEqual({ OK: 3 });
      // The status as the HES (fw-campaign-status) and `dcu firmware campaign status --json` get it.
      const ajv = new Ajv({ strict: false });
      expect([ajv.validate(CAMPAIGN_STATUS_SCHEMA, s), ajv.errors]).toEqual([true, null]);
      for (const m of s.meters) {
        expect([m.meter, m.bytes.imageBytesSent, m.bytes.ratio]).toEqual([m.meter, IMAGE.length, 1]);
        expect(m.bytes.imageBytes).toBe(IMAGE.length);
        expect(m.bytes.overheadBytes).toBe(m.bytes.lineBytesSent + m.bytes.lineBytesReceived - IMAGE.length);
        expect(m.bytes.lineBytesSent).toBeGreaterThan(IMAGE.length);
      }
      const stats = v.lines.stats()[0];
      const line = s.lines[0];
      expect(s.lines).toHaveLength(1);
      expect(line).toMatchObject({ line: 'line0', meters: 3, bytes: { imageBytes: 3 * IMAGE.length, imageBytesSent: 3 * IMAGE.length, ratio: 1 } });
      // Nothing else ran on the line: its bytes are the firmware sessions' bytes, both ways.
      const sessions = s.meters.reduce((n, m) => n + m.bytes.lineBytesSent + m.bytes.lineBytesReceived, 0);
      expect(sessions).toBe(lineTotal(v) - before);
      expect(line?.bytes.lineBytesSent).toBe(stats?.bytesToMeters);
      expect(line?.bytes.lineBytesReceived).toBe(stats?.bytesFromMeters);
    } finally {
      await v.stop();
    }
  }, 120_000);

  it('counts re-sent blocks after a power cut and keeps the counts across a restart: ≤ 1.1 × per line', async () => {
    const stateDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'dcu-fw-bytes-'));
    // The first meter of line0 transfers from about 5 s to 25 s: the cut drops a block in flight.
    const cut = meterSerial('SIM', 0);
    const v = await fleet({ meters: 6, lines: 2, faults: { [cut]: { powerCutsAtMs: [12_000], powerOutageMs: 3 * MIN } } }, stateDir);
    let daemon: Daemon = v.daemon;
    try {
      const id = daemon.firmware.campaigns.create({ image: 'img3', all: true, pollInterval: '10s', retryInterval: '1m', deadline: '1d' }, 'local').campaign.id;
      await v.runUntil(START + 40_000);
      const mid = daemon.firmware.campaigns.status(id);
      expect(mid.meters.some((m) => m.state === 'transferring' && m.bytes.imageBytesSent > 0)).toBe(true);
      await v.runWhile(daemon.stop());
      daemon = startDaemon(v.config, { clock: v.clock, logger: nullLogger, openSerialLine: (l) => v.lines.open(l.serial.path, l.serial.baud) });
      // What was counted before the stop is in the store.
      const again = daemon.firmware.campaigns.status(id);
      for (const m of mid.meters) expect(again.meters.find((x) => x.meter === m.meter)?.bytes.imageBytesSent).toBeGreaterThanOrEqual(m.bytes.imageBytesSent);
      let s: CampaignStatus = again;
      for (let t = v.clock.now(); s.state === 'running' && t < START + 6 * HOUR; t += 10 * MIN) {
        await v.runUntil(t);
        s = daemon.firmware.campaigns.status(id);
      }
      expect(s.counts).toEqual({ OK: 6 });
      const cutMeter = s.meters.find((m) => m.meter === cut);
      // The block lost in the cut went again: counted twice.
      expect(cutMeter?.bytes.imageBytesSent).toBeGreaterThan(IMAGE.length);
      for (const m of s.meters) expect(m.bytes.imageBytesSent).toBeGreaterThanOrEqual(IMAGE.length);
      expect(s.lines.map((l) => l.line).sort()).toEqual(['line0', 'line1']);
      for (const l of s.lines) {
        expect(l.meters).toBe(3);
        expect(l.bytes.imageBytes).toBe(3 * IMAGE.length);
        expect(l.bytes.imageBytesSent).toBeGreaterThanOrEqual(3 * IMAGE.length);
        expect(l.bytes.ratio).toBeLessThanOrEqual(IMAGE_BYTES_GOAL);
      }
    } finally {
      await v.runWhile(daemon.stop());
      await v.fleet.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 180_000);
});
