import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeterMetadata } from '../../protocol/client/meta-cache';
import { openStore } from '../../storage/db';
import { SqliteMetadataCache } from '../../storage/meta-cache';

const META: MeterMetadata = {
  logicalDeviceName: '090B4443553030303030303030',
  firmware: '0906312E322E3330',
  profiles: {
    '1.0.99.1.0.255': {
      captureObjects: [{ classId: 8, obis: '0.0.1.0.0.255', attributeIndex: 2, dataIndex: 0 }],
      capturePeriod: 900,
      scalers: { '3:1.0.1.8.0.255:2': { scaler: 0, unit: 30 } },
    },
  },
  savedAt: 1_700_000_000_000,
};

describe('SqliteMetadataCache', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dcu-meta-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps entries across a reopen and replaces them', async () => {
    const path = join(dir, 'dcu.sqlite');
    await new SqliteMetadataCache(openStore(path)).put('SIM000001', META);
    const cache = new SqliteMetadataCache(openStore(path));
    expect(await cache.get('SIM000001')).toEqual(META);
    expect(await cache.get('other')).toBeUndefined();
    await cache.put('SIM000001', { ...META, firmware: 'result:4' });
    expect((await cache.get('SIM000001'))?.firmware).toBe('result:4');
  });

  it('forgets an entry that no longer checks instead of trusting it', async () => {
    const db = openStore(join(dir, 'dcu.sqlite'));
    db.prepare('INSERT INTO meter_meta (meter_key, body, updated_at) VALUES (?, ?, ?)').run('bad', '{"firmware": 5}', 0);
    expect(await new SqliteMetadataCache(db).get('bad')).toBeUndefined();
  });
});
