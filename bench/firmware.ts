import { createHash } from 'node:crypto';
import { SIM_KEYS } from '../sim/types';
import { IMAGE_BYTES_GOAL } from '../daemon/firmware/bytes';
import { WireTally } from './firmware-wire';
import type { Bench, Figure } from './harness';
import { startVirtualDcu } from './virtual-dcu';

/**
 * A firmware campaign: a 256 KiB image to 100 meters on one virtual 9,600-baud multi-drop
 * line (bench/virtual-dcu.ts: the real daemon and simulator on a FakeClock, both directions
 * paced at the line rate, so virtual time is line time). Figures: the campaign's total time
 * against the line-rate bound (image bytes × meters at 10 bits per byte, nothing else on the
 * line), line efficiency (image bytes delivered ÷ what the line could carry in that time), and
 * the bytes that moved on the line per image byte (HDLC, xDLMS and ciphering overhead,
 * associations, acknowledgements). From the daemon's own counts (campaign status, migration
 * 013): image bytes sent ÷ (image × meters) against the 1.1 goal, and its session bytes
 * against what the line carried; from a tap on the line (firmware-wire.ts) the overhead per
 * image byte, itemized. Knobs: BENCH_FW_METERS, BENCH_FW_KIB, BENCH_FW_HDLC
 * ("maxInfo/window", default the simulator's 128 B / 1), BENCH_FW_BLOCK (meter block size, default 512).
 */
const BAUD = 9600;
const START = Date.UTC(2026, 2, 2, 0, 7);
const env = (name: string, fallback: number): number => {
  const n = Number(process.env[name]);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

export const firmwareBench: Bench = {
  name: 'firmware',
  async run(): Promise<Figure[]> {
    const meters = env('BENCH_FW_METERS', 100);
    const size = env('BENCH_FW_KIB', 256) * 1024;
    const blockSize = env('BENCH_FW_BLOCK', 512);
    const m = /^(\d+)\/(\d+)$/.exec(process.env['BENCH_FW_HDLC'] ?? '');
    const hdlc = m === null ? undefined : { maxInfoTx: Number(m[1]), maxInfoRx: Number(m[1]), windowTx: Number(m[2]), windowRx: Number(m[2]) };
    const tally = new WireTally(blockSize);
    const v = await startVirtualDcu({
      start: START,
      meters,
      lines: 1,
      baud: BAUD,
      latencyMs: 20,
      profileDepthDays: 1,
      ...(hdlc === undefined ? {} : { hdlc }),
      meterOptions: () => ({ imageTransfer: { blockSize, maxImageSize: 4 * 1024 * 1024, verifyDelayMs: 5_000, activationDelayMs: 5_000 } }),
      meterConfig: () => ({ client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: { blockKey: SIM_KEYS.blockKey, authKey: SIM_KEYS.authKey } }),
      line: { timeout: '3s' },
      config: {},
      wrapLine: (t) => tally.tap(t),
    });
    try {
      const image = Uint8Array.from({ length: size }, (_, i) => (i * 2654435761) >>> 24);
      const fw = v.daemon.firmware;
      fw.images.upload({ id: 'bench', version: 'SIM-FW-9.9.9', size, sha256: createHash('sha256').update(image).digest('hex') }, image);
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      const t0 = v.clock.now();
      const c = fw.campaigns.create({ image: 'bench', all: true, pollInterval: '10s', deadline: '30d' }, 'local').campaign.id;
      while (fw.campaigns.status(c).state === 'running') await v.runUntil(v.clock.now() + 600_000);
      const s = fw.campaigns.status(c);
      // The campaign ended within the last step: its end is the last meter's result.
      const ended = Math.max(...s.meters.map((x) => (v.daemon.db.prepare('SELECT updated_at AS t FROM fw_campaign_meters WHERE campaign = ? AND meter = ?').get(c, x.meter) as { t: number }).t));
      const totalMs = ended - t0;
      const stats = v.lines.stats()[0];
      const lineBytes = (stats?.bytesToMeters ?? 0) + (stats?.bytesFromMeters ?? 0);
      const ok = s.counts['OK'] ?? 0;
      const boundMs = (size * meters * 10 * 1000) / BAUD;
      // The daemon's counts (persisted per campaign meter) and the tap's buckets.
      const counted = s.lines[0]?.bytes;
      const imageSent = counted?.imageBytesSent ?? 0;
      const sessionBytes = (counted?.lineBytesSent ?? 0) + (counted?.lineBytesReceived ?? 0);
      const b = tally.bytes;
      const perImageByte = (n: number): number => n / Math.max(1, imageSent);
      const blockHeaders = b.block - imageSent;
      // Names within the figure column; the detail says what each holds (firmware-wire.ts).
      const overhead = {
        'HDLC framing + LLC of I-frames': b.framing,
        'xDLMS + ciphering header of the blocks': blockHeaders,
        'answers to the blocks (action-response)': b.blockAnswer,
        'RR frames': b.rr,
        'associations + release (link and ACSE)': b.link + b.association,
        'reads, polls, initiate/verify/activate': b.other,
        'bytes outside frames': b.garbage,
      };
      const detail = {
        meters,
        imageBytes: size,
        blockSize,
        baud: BAUD,
        hdlc: hdlc ?? 'simulator default (128 B, window 1)',
        ok,
        ko: s.counts['KO'] ?? 0,
        totalH: totalMs / 3_600_000,
        boundH: boundMs / 3_600_000,
        lineBytes,
        requests: stats?.requests ?? 0,
        imageBytesSent: imageSent,
        sessionBytes,
        blocks: tally.blocks,
        blockHeaderBytesPerBlock: tally.blocks > 0 ? blockHeaders / tally.blocks : 0,
        tapped: { ...b, total: tally.total },
        overheadBytes: overhead,
        cpuS: (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6,
        wallS: (performance.now() - wall0) / 1000,
      };
      return [
        { name: `campaign total time (${meters} meters, ${size / 1024} KiB), virtual`, value: totalMs / 3_600_000, unit: 'h', detail },
        { name: 'total time ÷ line-rate bound (image bytes × meters)', value: totalMs / boundMs, unit: '×', detail },
        { name: 'line efficiency (image bytes ÷ line capacity over the campaign)', value: (ok * size * 10 * 1000) / BAUD / totalMs, unit: 'ratio', detail },
        { name: 'bytes on the line per image byte delivered', value: lineBytes / Math.max(1, ok * size), unit: '×', goal: '≤ 1.1 + protocol overhead', detail },
        { name: 'image bytes sent ÷ (image × meters), daemon-counted', value: imageSent / Math.max(1, size * meters), unit: '×', goal: `≤ ${IMAGE_BYTES_GOAL}`, detail },
        { name: 'session bytes daemon-counted ÷ bytes on the line', value: sessionBytes / Math.max(1, lineBytes), unit: 'ratio', goal: '1 (nothing else on the line)', detail },
        { name: 'overhead per image byte sent (all)', value: perImageByte(sessionBytes - imageSent), unit: 'B/B', detail },
        ...Object.entries(overhead).map(([what, n]) => ({ name: `  ${what}`, value: perImageByte(n), unit: 'B/B', detail: { bytes: n } })),
      ];
    } finally {
      await v.stop();
    }
  },
};
