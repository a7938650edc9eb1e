/**
 * End to end, use case #5: a technician flashes one meter through the optical probe.
 * `dcu probe --mode-e … flash` (a child process) over a socat pty bridged to a TCP mode E
 * meter that is a simulator meter (management client 1, HLS-GMAC with the simulator's test
 * keys, 128-byte image blocks). The link drops after the meter got 5 blocks (the probe
 * pulled off); a second run resumes, sends only the missing blocks, verifies and activates.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../protocol/common/clock';
import type { ApduHandler } from '../../protocol/server/contract';
import { createSimMeter, type SimMeter } from '../../sim/meter';
import type { ImageInput } from '../../sim/meter/image-transfer';
import { loneMeterSpec, SIM_KEYS } from '../../sim/types';
import { runCli, startCli } from '../helpers/cli';
import { listenStrictModeEMeter, type StrictModeEMeter } from '../helpers/mode-e-tcp-meter';
import { createPtyTcpBridge } from '../helpers/socat';
import { until } from '../helpers/until';

const BLOCK = 128;
const IMAGE = Uint8Array.from({ length: 40 * BLOCK - 60 }, (_, i) => (i * 7 + 3) & 0xff); // 40 blocks, the last one short
const BLOCKS = 40;

let dir: string;
let meter: SimMeter;
let tcpMeter: StrictModeEMeter;
let blocksReceived: number[];
/** Drop the link once the meter got this many blocks in the test (the answer to the last one never leaves). */
let dropAt: number | undefined;
/** Stop answering once the meter got this many blocks (the dcu process then waits, and is killed). */
let muteAt: number | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcu-flash-'));
  writeFileSync(join(dir, 'fw.bin'), IMAGE);
  writeFileSync(join(dir, 'other.bin'), IMAGE.map((b) => b ^ 0xff).subarray(0, 20 * BLOCK));
  meter = createSimMeter(loneMeterSpec([{ client: 16, auth: 'none' }, { client: 1, auth: 'high' }]), { clock: systemClock }, { imageTransfer: { blockSize: BLOCK } });
  const imageStep = meter.core.imageStep.bind(meter.core);
  meter.core.imageStep = (input: ImageInput) => {
    if (input.type === 'block') blocksReceived.push(input.number);
    return imageStep(input);
  };
  const handler: ApduHandler = {
    handle: (apdu, session) => {
      const answer = meter.handler.handle(apdu, session);
      if (muteAt !== undefined && blocksReceived.length >= muteAt) return undefined;
      if (dropAt !== undefined && blocksReceived.length >= dropAt) {
        dropAt = undefined;
        tcpMeter.dropConnections();
        return undefined;
      }
      return answer;
    },
    release: (session) => meter.handler.release(session),
  };
  tcpMeter = await listenStrictModeEMeter({ responder: { manufacturer: 'SIM', identification: 'FLASH', baudRate: 9600 }, handler });
});

beforeEach(() => {
  blocksReceived = [];
});

afterAll(async () => {
  await tcpMeter.close();
  rmSync(dir, { recursive: true, force: true });
});

const probeArgs = (path: string, timeoutMs = 1000) => [
  'probe', '--serial', path, '--mode-e', '--timeout', String(timeoutMs), '--retries', '1',
  '--client', '1', '--auth', 'high-gmac', '--system-title', '4775727578313233',
  '--block-key', SIM_KEYS.blockKey, '--auth-key', SIM_KEYS.authKey, '--counter-file', join(dir, 'counters.json'),
];

/** One technician session: a fresh socat pty ↔ TCP bridge (the probe plugged in), `dcu probe --mode-e … flash`. */
async function flash(...args: string[]) {
  const bridge = await createPtyTcpBridge(tcpMeter);
  try {
    return await runCli('dcu', [...probeArgs(bridge.path), '--json', 'flash', ...args], 60_000);
  } finally {
    await bridge.close();
  }
}

const jsonLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{"event"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('dcu probe --mode-e … flash over a socat pty', () => {
  it('is interrupted by a dropped link, then resumes with only the missing blocks, verifies and activates', async () => {
    dropAt = 5;
    const first = await flash(join(dir, 'fw.bin'), '--identifier', 'FW-2.1');
    expect(first.code).toBe(3); // transport
    expect(first.stderr).toMatch(/vanished|closed|did not answer/);
    expect(first.stderr).toMatch(/run the same command again to resume/);
    const events1 = jsonLines(first.stdout);
    expect(events1[0]).toMatchObject({ event: 'start', start: 'fresh', blockCount: BLOCKS, blockSize: BLOCK, size: IMAGE.length, identifier: 'FW-2.1' });
    // Blocks 0..3 acknowledged; block 4 reached the meter but its answer was lost with the link.
    expect(events1.filter((e) => e.event === 'progress').map((e) => e.block)).toEqual([0, 1, 2, 3]);
    expect(blocksReceived).toEqual([0, 1, 2, 3, 4]);
    expect(meter.core.imageState().status).toBe('initiated');

    blocksReceived = [];
    const second = await flash(join(dir, 'fw.bin'), '--identifier', 'FW-2.1', '--activate');
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const events2 = jsonLines(second.stdout);
    expect(events2[0]).toMatchObject({ event: 'start', start: 'resume' });
    expect(events2.find((e) => e.event === 'resume')).toMatchObject({ firstNotTransferred: 5, blocksHeld: 5, blocksToSend: BLOCKS - 5 });
    expect(events2.at(-1)).toEqual({ event: 'done', identifier: 'FW-2.1', size: IMAGE.length, blockSize: BLOCK, blockCount: BLOCKS, start: 'resume', resumedFrom: 5, blocksSent: BLOCKS - 5, status: 'activated' });
    // Only the missing blocks went out, each once.
    expect(blocksReceived).toEqual(Array.from({ length: BLOCKS - 5 }, (_, i) => i + 5));
    const progress = events2.filter((e) => e.event === 'progress');
    expect(progress.at(-1)).toMatchObject({ bytes: IMAGE.length, percent: 100, blocksSent: BLOCKS - 5 });
    // The meter ends with the image, activated.
    const s = meter.core.imageState();
    expect(s.status).toBe('activation-successful');
    expect(Buffer.from(s.image).equals(Buffer.from(IMAGE))).toBe(true);
    expect(meter.core.firmwareId).toBe('FW-2.1');
  });

  it('starts over when the meter holds part of another image (never a block on top of it)', async () => {
    dropAt = 3;
    const other = await flash(join(dir, 'other.bin'));
    expect(other.code).toBe(3);
    expect(meter.core.imageState().size).toBe(20 * BLOCK);

    blocksReceived = [];
    const r = await flash(join(dir, 'fw.bin'), '--identifier', 'FW-2.2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events[0]).toMatchObject({ event: 'start', start: 'fresh', reason: 'other-image' });
    expect(events.at(-1)).toMatchObject({ event: 'done', start: 'fresh', resumedFrom: 0, blocksSent: BLOCKS, status: 'verified' });
    expect(blocksReceived).toEqual(Array.from({ length: BLOCKS }, (_, i) => i));
    expect(meter.core.imageState().status).toBe('verification-successful');
    expect(meter.core.firmwareId).toBe('FW-2.1');
  });

  it('sends nothing again for an image the meter holds verified, and says how to activate it', async () => {
    const bridge = await createPtyTcpBridge(tcpMeter);
    try {
      const r = await runCli('dcu', [...probeArgs(bridge.path), 'flash', join(dir, 'fw.bin'), '--identifier', 'FW-2.2'], 60_000);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // The verified image of the last test: nothing is sent again.
      expect(r.stdout).toMatch(/already holds this image, verified: nothing to send/);
      expect(r.stdout).toMatch(/to activate it later: .* --identifier FW-2\.2 --activate/);
      expect(r.stdout).not.toContain(SIM_KEYS.blockKey);
    } finally {
      await bridge.close();
    }
  });

  it('is killed (kill -9) mid-transfer, and the next run sends each missing block once', async () => {
    muteAt = 10;
    const bridge = await createPtyTcpBridge(tcpMeter);
    let killed;
    try {
      const run = startCli('dcu', [...probeArgs(bridge.path, 10_000), '--json', 'flash', join(dir, 'fw.bin'), '--identifier', 'FW-3.0', '--activate']);
      await until(() => blocksReceived.length >= 10, 'ten blocks on the meter');
      run.child.kill('SIGKILL');
      killed = await run.exited;
    } finally {
      await bridge.close();
    }
    expect(killed.code).toBeNull();
    expect(jsonLines(killed.stdout)[0]).toMatchObject({ event: 'start', start: 'fresh', reason: 'other-image-verified' });
    expect(blocksReceived).toEqual(Array.from({ length: 10 }, (_, i) => i));

    muteAt = undefined;
    blocksReceived = [];
    const r = await flash(join(dir, 'fw.bin'), '--identifier', 'FW-3.0', '--activate');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ event: 'done', start: 'resume', resumedFrom: 10, blocksSent: BLOCKS - 10, status: 'activated' });
    expect(blocksReceived).toEqual(Array.from({ length: BLOCKS - 10 }, (_, i) => i + 10));
    expect(meter.core.firmwareId).toBe('FW-3.0');
    expect(Buffer.from(meter.core.imageState().image).equals(Buffer.from(IMAGE))).toBe(true);
  });

  it('is stopped with Ctrl-C mid-transfer and says where it stopped and that running it again resumes', async () => {
    muteAt = 10;
    const bridge = await createPtyTcpBridge(tcpMeter);
    let stopped;
    try {
      const run = startCli('dcu', [...probeArgs(bridge.path, 10_000), 'flash', join(dir, 'fw.bin'), '--identifier', 'FW-3.1']);
      await until(() => blocksReceived.length >= 10, 'ten blocks on the meter');
      run.child.kill('SIGINT');
      stopped = await run.exited;
    } finally {
      muteAt = undefined;
      await bridge.close();
    }
    expect(stopped.code).toBe(130);
    // Blocks 0..8 acknowledged; the answer to block 9 never came (the meter went mute).
    expect(stopped.stderr).toMatch(/dcu probe: interrupted during the transfer, 9 of 40 blocks on the meter\n {2}the meter keeps the blocks it acknowledged: run the same command again to resume/);
  });
});
