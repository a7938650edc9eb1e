/**
 * `dcu probe … flash` in process against a simulator meter on an in-memory HDLC link: the
 * meter verifies and activates in meter time (its FakeClock), the flash polls the status
 * meanwhile; an image the meter holds verified is not sent again; command-line checks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DlmsClient } from '../../../protocol/client/client';
import { FakeClock, systemClock } from '../../../protocol/common/clock';
import { ErrorCode } from '../../../protocol/common/errors';
import { defaultIdentifier, prepareFlash, runFlash, type FlashIo } from '../../../cli/probe/flash';
import { createSimMeter, type SimMeter } from '../../../sim/meter';
import { loneMeterSpec } from '../../../sim/types';
import { expectDcuErrorAsync } from '../../helpers/dcu-error';
import { memoryTransportPair } from '../../helpers/memory-transport';
import { serveMeter } from '../../helpers/serve-meter';
import { until } from '../../helpers/until';

const IMAGE = Uint8Array.from({ length: 1000 }, (_, i) => (i * 13) & 0xff);
let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcu-flash-unit-'));
  file = join(dir, 'fw.bin');
  writeFileSync(file, IMAGE);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function setup(imageTransfer = {}) {
  const meterClock = new FakeClock(Date.UTC(2026, 11, 1));
  const meter: SimMeter = createSimMeter(loneMeterSpec([{ client: 1, auth: 'low', password: '00000000' }]), { clock: meterClock }, { imageTransfer: { blockSize: 64, ...imageTransfer } });
  const [clientEnd, meterEnd] = memoryTransportPair();
  await meterEnd.open();
  serveMeter(meterEnd, meter.handler, { framing: 'hdlc' });
  const client = new DlmsClient(clientEnd, {
    framing: 'hdlc',
    clientAddress: 1,
    serverAddress: { logical: 1 },
    authentication: { mechanism: 'low', password: new TextEncoder().encode('00000000') },
    responseTimeoutMs: 2000,
    retries: 1,
    clock: systemClock,
  });
  await client.connect();
  const lines: string[] = [];
  const progress: string[] = [];
  const io: FlashIo = { line: (t) => lines.push(t), progress: (t) => progress.push(t), mode: 'lines', clock: systemClock, poll: { pollIntervalMs: 5 } };
  return { meterClock, meter, client, io, lines, progress };
}

it('transfers, polls while the meter verifies and activates in its own time, and ends activated', async () => {
  const { meterClock, meter, client, io, lines, progress } = await setup({ verifyDelayMs: 60_000, activationDelayMs: 30_000 });
  try {
    const flashing = runFlash(client, prepareFlash({ command: 'flash', image: file, activate: true }), io);
    await until(() => meter.core.imageState().status === 'verification-initiated', 'verification pending');
    meterClock.advance(60_000);
    await until(() => meter.core.imageState().status === 'activation-initiated', 'activation pending');
    meterClock.advance(30_000);
    const result = await flashing;
    expect(result.json).toEqual({ event: 'done', identifier: defaultIdentifier(IMAGE), size: 1000, blockSize: 64, blockCount: 16, start: 'fresh', resumedFrom: 0, blocksSent: 16, status: 'activated' });
    expect(result.text).toBe('image activated: 16 blocks sent, 16 in all');
    expect(lines).toEqual([`image ${file}: 1000 B, identifier ${defaultIdentifier(IMAGE)}, 16 blocks of 64 bytes — no transfer in progress on the meter`, 'verifying the image on the meter …', 'activating …']);
    expect(progress.map((l) => l.split(' ')[0])).toEqual(['10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(meter.core.firmwareId).toBe(defaultIdentifier(IMAGE));
  } finally {
    await client.close();
  }
});

it('does not send an image the meter holds verified again: --activate later activates only', async () => {
  const { meter, client, io } = await setup();
  try {
    const first = await runFlash(client, prepareFlash({ command: 'flash', image: file, activate: false, identifier: 'FW-7' }), io);
    expect(first.json).toMatchObject({ blocksSent: 16, status: 'verified' });
    expect(first.text).toMatch(/to activate it later: dcu probe … flash .*fw\.bin --identifier FW-7 --activate/);
    const again = await runFlash(client, prepareFlash({ command: 'flash', image: file, activate: true, identifier: 'FW-7' }), io);
    expect(again.json).toMatchObject({ start: 'verified', blocksSent: 0, status: 'activated' });
    expect(meter.core.firmwareId).toBe('FW-7');
  } finally {
    await client.close();
  }
});

it('refuses a meter whose image transfer is disabled, before any initiate', async () => {
  const { meter, client, io } = await setup();
  try {
    meter.core.imageStep({ type: 'enable', enabled: false });
    const e = await expectDcuErrorAsync(() => runFlash(client, prepareFlash({ command: 'flash', image: file, activate: false }), io), ErrorCode.MeterUnsupported);
    expect(e.message).toMatch(/disabled.*enable it first/);
    expect(meter.core.imageState().status).toBe('not-initiated');
  } finally {
    await client.close();
  }
});

it('checks the command line before the port opens', () => {
  expect(() => prepareFlash({ command: 'flash', image: join(dir, 'missing.bin'), activate: false })).toThrow(/cannot read the image .*ENOENT/);
  expect(() => prepareFlash({ command: 'flash', image: file, activate: false, blockSize: '0' })).toThrow(/--block-size/);
  expect(() => prepareFlash({ command: 'flash', image: file, activate: false, identifier: 'hex:ABC' })).toThrow(/even number of hex digits/);
  expect(prepareFlash({ command: 'flash', image: file, activate: false, identifier: 'hex:0102' })).toMatchObject({ identifier: Uint8Array.of(1, 2), identifierText: 'hex:0102' });
  expect(defaultIdentifier(IMAGE)).toMatch(/^[0-9A-F]{16}$/);
});
