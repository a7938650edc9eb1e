import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../protocol/common/errors';
import type { MeterMetadata } from '../../protocol/client/meta-cache';
import { FileMetadataCache } from '../../storage/meta-cache-file';
import { codeOfAsync } from '../helpers/dcu-error';

const ENTRY: MeterMetadata = {
  logicalDeviceName: '090a5453543030303030303031',
  firmware: '090646572d312e30',
  profiles: {
    '1.0.99.1.0.255': {
      captureObjects: [
        { classId: 8, obis: '0.0.1.0.0.255', attributeIndex: 2, dataIndex: 0 },
        { classId: 3, obis: '1.0.1.8.0.255', attributeIndex: 2, dataIndex: 0 },
      ],
      capturePeriod: 900,
      scalers: { '3:1.0.1.8.0.255:2': { scaler: 0, unit: 30 } },
    },
  },
  savedAt: Date.UTC(2026, 0, 1),
};

describe('FileMetadataCache', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-meta-'));
    path = join(dir, 'meta-cache.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file is an empty cache; put then get round-trips through the file (new instance)', async () => {
    const a = new FileMetadataCache({ path });
    expect(await a.get('m1')).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    await a.put('m1', ENTRY);
    expect(await new FileMetadataCache({ path }).get('m1')).toEqual(ENTRY);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 1, meters: { m1: ENTRY } });
    expect(readdirSync(dir)).toEqual(['meta-cache.json']); // no temp file left behind
  });

  it("keeps other meters' entries, also those another process wrote meanwhile", async () => {
    const a = new FileMetadataCache({ path });
    const b = new FileMetadataCache({ path });
    await a.put('m1', ENTRY);
    await b.put('m2', { ...ENTRY, firmware: '00' });
    await a.put('m3', ENTRY);
    const c = new FileMetadataCache({ path });
    expect(await c.get('m1')).toEqual(ENTRY);
    expect((await c.get('m2'))?.firmware).toBe('00');
    expect(await c.get('m3')).toEqual(ENTRY);
  });

  it('forgets what does not parse or check (it is read from the meter again) and rewrites on the next put', async () => {
    writeFileSync(path, '{ not json');
    const store = new FileMetadataCache({ path });
    expect(await store.get('m1')).toBeUndefined();
    writeFileSync(path, JSON.stringify({ version: 1, meters: { bad: { firmware: 1 }, good: ENTRY, worse: { ...ENTRY, profiles: { x: { capturePeriod: 'a' } } } } }));
    expect(await store.get('bad')).toBeUndefined();
    expect(await store.get('worse')).toBeUndefined();
    expect(await store.get('good')).toEqual(ENTRY);
    await store.put('m1', ENTRY);
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')).meters).sort()).toEqual(['good', 'm1']);
  });

  it('reports an unwritable location as a storage error, and the queue is not wedged', async () => {
    const store = new FileMetadataCache({ path: join(dir, 'no-such-dir', 'meta.json') });
    expect(await codeOfAsync(store.put('m1', ENTRY))).toBe(ErrorCode.Storage);
    expect(await store.get('m1')).toBeUndefined();
  });
});
