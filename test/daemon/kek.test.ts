import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATED_KEK_FILE, kekSource, openSecrets, readKek, writeNewKek } from '../../daemon/kek';
import { ErrorCode } from '../../protocol/common/errors';
import { openStore } from '../../storage/db';
import { MeterRepository } from '../../storage/meters';
import { SecretBox } from '../../storage/secret-box';
import { expectDcuError } from '../helpers/dcu-error';

const HEX = 'a1'.repeat(32);
const meter = { serial: 'M1', line: 'ip', address: '127.0.0.1:9', client: 17, auth: 'low' as const, password: 'pw-at-rest', gbt: true, deviationSign: 'blue-book' as const };

describe('the key-encryption key', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dcu-kek-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('comes from the systemd credential first, then secrets.kekFile, else the generated file in the state directory', () => {
    const creds = join(dir, 'creds');
    mkdirSync(creds);
    const config = { stateDir: dir, secrets: { kekFile: join(dir, 'my.kek') } };
    expect(kekSource(config, { CREDENTIALS_DIRECTORY: creds })).toEqual({ kind: 'file', path: join(dir, 'my.kek') }); // no dcu-kek among the credentials
    writeFileSync(join(creds, 'dcu-kek'), HEX);
    expect(kekSource(config, { CREDENTIALS_DIRECTORY: creds })).toEqual({ kind: 'credential', path: join(creds, 'dcu-kek') });
    expect(kekSource({ stateDir: dir, secrets: {} }, {})).toEqual({ kind: 'generated', path: join(dir, GENERATED_KEK_FILE) });
    writeFileSync(join(creds, 'dcu-kek'), 'none'); // the unit's SetCredential= fallback: no encrypted credential on this box
    expect(kekSource(config, { CREDENTIALS_DIRECTORY: creds })).toEqual({ kind: 'file', path: join(dir, 'my.kek') });
  });

  it('reads 64 hex digits or 32 raw bytes, and names what is wrong otherwise', () => {
    const f = join(dir, 'k');
    writeFileSync(f, `  ${HEX}\n`);
    expect(readKek(f).toString('hex')).toBe(HEX);
    writeFileSync(f, Buffer.alloc(32, 5));
    expect(readKek(f)).toEqual(Buffer.alloc(32, 5));
    writeFileSync(f, 'a1a1');
    expect(expectDcuError(() => readKek(f), ErrorCode.Config).message).toContain('neither 64 hex digits nor 32 raw bytes (make one with: openssl rand -hex 32)');
    expect(expectDcuError(() => readKek(join(dir, 'none')), ErrorCode.Config).message).toContain('does not exist');
    expect(expectDcuError(() => readKek(dir), ErrorCode.Config).message).toContain('is not a regular file');
  });

  it('is generated 0600 on the first start and the same on the next; seals the store with it', () => {
    const db = openStore(join(dir, 'dcu.sqlite'));
    const first = openSecrets(db, { stateDir: dir, secrets: {} }, {}, 1);
    expect(first).toMatchObject({ created: true, source: { kind: 'generated' }, sealed: 0 });
    expect(statSync(join(dir, GENERATED_KEK_FILE)).mode & 0o777).toBe(0o600);
    new MeterRepository(db, first.box).upsert(meter, 'hes', 2);
    const second = openSecrets(db, { stateDir: dir, secrets: {} }, {}, 3);
    expect(second).toMatchObject({ created: false, sealed: 0 });
    expect(second.box.id).toBe(first.box.id);
    expect(() => openSecrets(openStore(join(dir, 'other.sqlite')), { stateDir: join(dir, 'nowhere'), secrets: {} }, {}, 4, false)).toThrow(/does not exist/);
  });

  it('a store sealed with another KEK is refused by name; an interrupted rotation (dcu-kek.new) is finished', () => {
    const db = openStore(join(dir, 'dcu.sqlite'));
    const old = openSecrets(db, { stateDir: dir, secrets: {} }, {}, 1).box;
    new MeterRepository(db, old).upsert(meter, 'hes', 2);
    const kekFile = join(dir, 'other.kek');
    writeFileSync(kekFile, 'b2'.repeat(32));
    const e = expectDcuError(() => openSecrets(db, { stateDir: dir, secrets: { kekFile } }, {}, 3), ErrorCode.SealedSecrets);
    expect(e.message).toContain(`1 meter(s) with KEK ${old.id} (M1)`);
    // a rotation that committed, then died before renaming the new KEK into place
    const next = new SecretBox(writeNewKek(join(dir, `${GENERATED_KEK_FILE}.new`)));
    new MeterRepository(db, old).resealWith(next, 4);
    const opened = openSecrets(db, { stateDir: dir, secrets: {} }, {}, 5);
    expect(opened.box.id).toBe(next.id);
    expect(readFileSync(join(dir, GENERATED_KEK_FILE), 'utf8').trim()).toHaveLength(64);
    expect(new MeterRepository(db, opened.box).get('M1')!.access.password).toBe('pw-at-rest');
    // one that never committed: the stray new KEK is dropped
    writeNewKek(join(dir, `${GENERATED_KEK_FILE}.new`));
    expect(openSecrets(db, { stateDir: dir, secrets: {} }, {}, 6).box.id).toBe(next.id);
    expect(() => statSync(join(dir, `${GENERATED_KEK_FILE}.new`))).toThrow();
  });
});
