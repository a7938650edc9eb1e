/**
 * Issue 19 item 3, through real processes on a real full filesystem (a small tmpfs; the test
 * is skipped where mounting is not permitted): dcud starts degraded instead of exiting 7,
 * sends a `disk-full` alarm and keeps draining; a second dcud on the same state directory still
 * exits 7 with "another dcud already runs".
 */
import mqtt, { type MqttClient } from 'mqtt';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DCUD, startDcud, type DcudChild } from '../../helpers/dcud';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto';
import { until } from '../../helpers/until';

jest.setTimeout(180_000);

const base = mkdtempSync(join(tmpdir(), 'dcud-full-'));
const mnt = join(base, 'fs');
mkdirSync(mnt);
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', mnt]).status === 0;
const maybe = mounted ? describe : describe.skip;

/** Writes until the filesystem says ENOSPC. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const b = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, b);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
}

maybe('dcud on a full filesystem', () => {
  let broker: Mosquitto;
  let hes: MqttClient;
  let dcud: DcudChild | undefined;
  const alarms: { code?: string; cleared?: string[] }[] = [];
  let health = 0;
  beforeAll(async () => {
    broker = await startMosquitto();
    hes = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'hes-full' });
    hes.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as { items: { code?: string; cleared?: string[] }[] };
      if (topic.endsWith('/data/alarms')) alarms.push(...body.items);
      if (topic.endsWith('/data/health')) health++;
    });
    await hes.subscribeAsync('dcu/dcu-full/#', { qos: 1 });
  });
  afterAll(async () => {
    if (dcud !== undefined) await dcud.stop();
    await hes.endAsync(true);
    await broker.close();
    execFileSync('umount', [mnt]);
    rmSync(base, { recursive: true, force: true });
  });

  it('starts degraded, raises disk-full and drains; a lock conflict keeps exit 7', async () => {
    const file = join(base, 'dcu.yaml');
    writeFileSync(file, ['id: dcu-full', `stateDir: ${join(mnt, 'state')}`, 'storage: { maxBytes: 4MB }', `mqtt: { url: "${broker.url}", healthEvery: 1s, reconnectMin: 200ms, reconnectMax: 1s }`, 'lines: []', 'meters: []', ''].join('\n'));
    dcud = await startDcud(file);
    await until(() => health >= 2, 'health messages on a sound disk', 60_000);
    expect(await dcud.stop()).toBe(0);
    dcud = undefined;

    fill(join(mnt, 'filler'));
    dcud = await startDcud(file).catch((e: unknown) => {
      throw new Error(`dcud did not start on the full filesystem: ${String(e)}`);
    });
    await until(() => alarms.some((a) => a.code === 'disk-full'), 'the disk-full alarm at the HES', 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${dcud?.output().slice(-3000) ?? ''}`);
    });
    expect(dcud.output()).toMatch(/filesystem/);
    expect(dcud.output()).not.toMatch(/raise storage\.maxBytes/);

    // another dcud on the same state directory: the lock conflict's own exit code
    const second = spawnSync(process.execPath, [DCUD, '--config', file], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: second.status, stderr: second.stderr }).toEqual({ status: 7, stderr: expect.stringMatching(/another dcud already runs/) as unknown });

    // space returns: health reports are stored and sent again
    rmSync(join(mnt, 'filler'));
    const now = health;
    await until(() => health >= now + 3, 'health messages once space returned', 60_000);
    expect(await dcud.stop()).toBe(0);
    dcud = undefined;
  });
});
