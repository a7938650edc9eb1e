/** Credentials only from files: a URL carrying them is refused (and not echoed), an unreadable file is named. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../protocol/common/clock';
import { ErrorCode } from '../../../protocol/common/errors';
import { nullLogger } from '../../../protocol/common/log';
import { openStore } from '../../../storage/db';
import { startUplink } from '../../../daemon/uplink/uplink';
import { MqttSchema } from '../../../config/schema';
import { expectDcuError } from '../../helpers/dcu-error';

describe('uplink configuration', () => {
  const base = { protocol: '5', keepalive: '60s', connectTimeout: '30s', reconnectMin: '1s', reconnectMax: '5m', sessionExpiry: '0s', window: 16, maxMessageBytes: 262_144, ackTimeout: '30s', retryMin: '5s', retryMax: '10m', appAck: false, appAckTimeout: '5m', encoding: 'compact' } as const;

  it('the schema defaults are the ones the uplink documents', () => {
    for (const [k, v] of Object.entries(base)) expect((MqttSchema.properties as Record<string, { default?: unknown }>)[k]?.default).toEqual(v);
  });

  it('refuses user info in the URL without echoing the password, and names an unreadable password file', () => {
    const db = openStore(':memory:');
    const deps = { db, clock: new FakeClock(), logger: nullLogger };
    const e = expectDcuError(() => startUplink('d1', { ...base, url: 'mqtt://dcu:hunter2@broker:1883' }, deps), ErrorCode.Config);
    expect(e.message).not.toContain('hunter2');
    expect(e.message).toMatch(/passwordFile/);
    expect(expectDcuError(() => startUplink('d1', { ...base, url: 'mqtt://broker:1883', passwordFile: '/nonexistent/pw' }, deps), ErrorCode.Config).message).toMatch(/\/nonexistent\/pw/);
    db.close();
  });

  it('a FIFO or a device named as a credentials or TLS file is refused at once, naming the key and what the path is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcu-uplink-files-'));
    try {
      const fifo = join(dir, 'pw');
      execFileSync('mkfifo', [fifo]);
      const db = openStore(':memory:');
      const deps = { db, clock: new FakeClock(), logger: nullLogger };
      expect(expectDcuError(() => startUplink('d1', { ...base, url: 'mqtt://broker:1883', passwordFile: fifo }, deps), ErrorCode.Config).message).toBe(
        `mqtt.passwordFile: ${fifo} is a FIFO (named pipe), not a credentials or PEM file; a credentials or PEM file is a regular file of at most 1048576 bytes; check mqtt.passwordFile and the file's permissions`,
      );
      expect(expectDcuError(() => startUplink('d1', { ...base, url: 'mqtts://broker:8883', tls: { ca: '/dev/zero' } }, deps), ErrorCode.Config).message).toMatch(/^mqtt\.tls\.ca: \/dev\/zero is a character device/);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
