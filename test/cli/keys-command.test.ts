import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rotateKek } from '../../cli/keys-command';
import { openSecrets, readKek } from '../../daemon/kek';
import { ErrorCode } from '../../protocol/common/errors';
import { openStore } from '../../storage/db';
import { MeterRepository } from '../../storage/meters';
import { SecretBox } from '../../storage/secret-box';
import { expectDcuError } from '../helpers/dcu-error';

const meter = { serial: 'M1', line: 'ip', address: '127.0.0.1:9', client: 17, auth: 'low' as const, password: 'pw-rotated', gbt: true, deviationSign: 'blue-book' as const };

describe('dcu keys rotate-kek with a KEK of your own (secrets.kekFile)', () => {
  let dir: string;
  let oldKek: string;
  let newKek: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-rotate-'));
    oldKek = join(dir, 'old.kek');
    newKek = join(dir, 'new.kek');
    writeFileSync(oldKek, 'c3'.repeat(32), { mode: 0o600 });
    writeFileSync(newKek, 'd4'.repeat(32), { mode: 0o600 });
    const db = openStore(join(dir, 'dcu.sqlite'));
    const opened = openSecrets(db, { stateDir: dir, secrets: { kekFile: oldKek } }, {}, 1);
    new MeterRepository(db, opened.box).upsert(meter, 'hes', 1);
    db.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('needs the new KEK named, re-seals with it, and says where to install it', () => {
    const without = expectDcuError(() => rotateKek({ state: dir, kekFile: oldKek }, {}, 2), ErrorCode.Usage);
    expect(without.message).toContain(`the KEK comes from the file ${oldKek}: give the new one with --new-kek-file FILE`);
    expectDcuError(() => rotateKek({ state: dir, kekFile: oldKek, newKekFile: oldKek }, {}, 2), ErrorCode.Usage);
    const r = rotateKek({ state: dir, kekFile: oldKek, newKekFile: newKek }, {}, 3);
    expect(r).toMatchObject({ meters: 1, from: new SecretBox(readKek(oldKek)).id, to: new SecretBox(readKek(newKek)).id, kek: newKek });
    expect(r.install).toContain(`replace ${oldKek} with ${newKek}`);
    const db = openStore(join(dir, 'dcu.sqlite'));
    expectDcuError(() => openSecrets(db, { stateDir: dir, secrets: { kekFile: oldKek } }, {}, 4), ErrorCode.SealedSecrets);
    const opened = openSecrets(db, { stateDir: dir, secrets: { kekFile: newKek } }, {}, 5);
    expect(new MeterRepository(db, opened.box).get('M1')?.access.password).toBe('pw-rotated');
    db.close();
  });

  it('without the current KEK it changes nothing and says where to find it', () => {
    const e = expectDcuError(() => rotateKek({ state: dir }, {}, 2), ErrorCode.Config);
    expect(e.message).toContain('give the KEK with --kek-file');
  });
});
