import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeterConfig } from '../../config/schema';
import { nextMeterState } from '../../storage/meter-state';
import { ErrorCode } from '../../protocol/common/errors';
import { openStore, type Db } from '../../storage/db';
import { MeterRepository } from '../../storage/meters';
import { SecretBox } from '../../storage/secret-box';
import { expectDcuError } from '../helpers/dcu-error';
import { testSecretBox } from '../helpers/store';

const meter = (serial: string, address: string, extra: Partial<MeterConfig> = {}): MeterConfig => ({
  serial,
  line: 'plc0',
  address,
  client: 17,
  auth: 'low',
  password: '00000000',
  gbt: true,
  deviationSign: 'blue-book',
  ...extra,
});

const noPassword = (m: MeterConfig): MeterConfig => {
  const c: Partial<MeterConfig> = { ...m };
  delete c.password;
  return c as MeterConfig;
};

describe('MeterRepository', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dcu-meters-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies a seed list idempotently and keeps meters added by others', () => {
    const repo = new MeterRepository(openStore(join(dir, 'dcu.sqlite')), testSecretBox());
    repo.upsert(meter('HES0001', '1/40'), 'hes', 1);
    expect(repo.applySeed([meter('A', '1/16'), meter('B', '1/17')], 2)).toEqual({ added: ['A', 'B'], updated: [], unchanged: 0 });
    expect(repo.applySeed([meter('A', '1/16'), meter('B', '1/17')], 3)).toEqual({ added: [], updated: [], unchanged: 2 });
    expect(repo.applySeed([meter('A', '1/16')], 4)).toEqual({ added: [], updated: [], unchanged: 1 });
    expect(repo.list().map((m) => `${m.serial}:${m.source}`)).toEqual(['A:config', 'B:config', 'HES0001:hes']);
  });

  it('keeps the tracked state across a reopen; a moved meter starts over as registered', () => {
    const path = join(dir, 'dcu.sqlite');
    let repo = new MeterRepository(openStore(path), testSecretBox());
    repo.applySeed([meter('A', '1/16')], 1);
    const t = nextMeterState(repo.get('A')!.state, { kind: 'association-ok', now: 5, identity: { firmwareId: 'FW1' } }, { unreachableAfterMs: 1000 });
    repo.saveState(t.state, 5);
    repo = new MeterRepository(openStore(path), testSecretBox());
    expect(repo.get('A')!.state).toMatchObject({ stage: 'commissioned', lastSeen: 5, identity: { firmwareId: 'FW1' } });
    expect(repo.applySeed([meter('A', '1/16', { password: 'other' })], 6).updated).toEqual(['A']);
    expect(repo.get('A')!.state.stage).toBe('commissioned'); // credentials changed, same place
    repo.applySeed([meter('A', '1/18')], 7);
    expect(repo.get('A')!.state).toMatchObject({ stage: 'registered', reachability: 'unknown', identity: {} });
    expect(repo.get('A')!.access).toMatchObject({ client: 17, auth: 'low' });
    expect(repo.remove('A')).toBe(true);
    expect(repo.get('A')).toBeUndefined();
  });

  describe('secrets at rest', () => {
    const KEYS = { blockKey: '000102030405060708090A0B0C0D0E0F', authKey: 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF' };
    const rawAccess = (db: Db, serial: string): string => (db.prepare('SELECT access FROM meters WHERE serial = ?').get(serial) as { access: string }).access;

    it('stores password, secret and keys sealed; the daemon opens them, a repository without the KEK never sees them', () => {
      const db = openStore(join(dir, 'dcu.sqlite'));
      const repo = new MeterRepository(db, testSecretBox());
      repo.upsert(meter('A', '1/16', { password: 'LlsPassw0rd' }), 'hes', 1);
      repo.upsert(noPassword(meter('B', '1/17', { auth: 'high-sha256', secret: 'HlsSecret123', systemTitle: '4443553030303031' })), 'hes', 1);
      repo.upsert(noPassword(meter('C', '1/18', { client: 1, auth: 'high-gmac', systemTitle: '4443553030303031', keys: KEYS })), 'hes', 1);
      for (const [serial, secret] of [['A', 'LlsPassw0rd'], ['B', 'HlsSecret123'], ['C', KEYS.authKey]] as const) {
        const stored = rawAccess(db, serial);
        expect(stored).not.toContain(secret);
        expect(JSON.parse(stored)).toMatchObject({ client: expect.any(Number), sealed: expect.stringMatching(new RegExp(`^v1\\.${testSecretBox().id}\\.`)) });
      }
      expect(repo.get('A')!.access).toMatchObject({ password: 'LlsPassw0rd' });
      expect(repo.get('B')!.access).toMatchObject({ secret: 'HlsSecret123', systemTitle: '4443553030303031' });
      expect(repo.get('C')!.access.keys).toEqual(KEYS);
      expect(repo.applySeed([meter('A', '1/16', { password: 'LlsPassw0rd' })], 2)).toEqual({ added: [], updated: [], unchanged: 1 });
      const blind = new MeterRepository(db);
      expect(JSON.stringify(blind.list())).not.toMatch(/LlsPassw0rd|HlsSecret123|D0D1D2D3|sealed/);
      expect(blind.get('A')!.access).toEqual({ client: 17, auth: 'low', gbt: true, deviationSign: 'blue-book' });
      expect(() => blind.upsert(meter('D', '1/19'), 'hes', 3)).toThrow(/key-encryption key/);
    });

    it('seals the rows an older dcu stored in clear, leaving no copy in the file; refuses a store sealed with another KEK', () => {
      const path = join(dir, 'dcu.sqlite');
      const legacy = openStore(path);
      legacy.prepare("INSERT INTO meters (serial, line, address, access, source, created_at, updated_at) VALUES ('OLD', 'plc0', '1/16', ?, 'config', 1, 1)").run(JSON.stringify({ client: 17, auth: 'low', password: 'ClearPassw0rd' }));
      legacy.close();
      expect(readFileSync(path).includes('ClearPassw0rd')).toBe(true);
      const db = openStore(path);
      const repo = new MeterRepository(db, testSecretBox());
      expect(repo.sealAtRest(2)).toEqual({ sealed: 1 });
      expect(repo.sealAtRest(3)).toEqual({ sealed: 0 });
      expect(rawAccess(db, 'OLD')).not.toContain('ClearPassw0rd');
      expect(repo.get('OLD')!.access.password).toBe('ClearPassw0rd');
      db.close();
      expect(readFileSync(path).includes('ClearPassw0rd')).toBe(false); // zeroed, not only unlinked from the b-tree

      const other = new SecretBox(Buffer.alloc(32, 9));
      const again = openStore(path);
      const e = expectDcuError(() => new MeterRepository(again, other).sealAtRest(4), ErrorCode.SealedSecrets);
      expect(e.message).toContain(`sealed with another key-encryption key than this one (${other.id}): 1 meter(s) with KEK ${testSecretBox().id} (OLD)`);
      expectDcuError(() => new MeterRepository(again, other).resealWith(new SecretBox(Buffer.alloc(32, 3)), 5), ErrorCode.SealedSecrets);
      expect(new MeterRepository(again, testSecretBox()).get('OLD')!.access.password).toBe('ClearPassw0rd'); // nothing changed
    });

    it('re-seals every row under a new KEK in one go: the old KEK no longer opens them', () => {
      const db = openStore(join(dir, 'dcu.sqlite'));
      const old = testSecretBox();
      new MeterRepository(db, old).applySeed([meter('A', '1/16', { password: 'pw-A' }), meter('B', '1/17', { password: 'pw-B' }), noPassword(meter('P', '1/18', { auth: 'none', client: 16 }))], 1);
      const next = new SecretBox(Buffer.alloc(32, 4));
      expect(new MeterRepository(db, old).resealWith(next, 2)).toBe(2);
      expect(new MeterRepository(db, next).sealAtRest(3)).toEqual({ sealed: 0 });
      expect(new MeterRepository(db, next).get('B')!.access.password).toBe('pw-B');
      expectDcuError(() => new MeterRepository(db, old).get('A'), ErrorCode.SealedSecrets);
    });
  });
});
