import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../../daemon/registry/registry';
import { FakeClock } from '../../../protocol/common/clock';
import { openStore, type Db } from '../../../storage/db';
import { EventLog } from '../../../storage/events';
import { MeterRepository } from '../../../storage/meters';
import { testSecretBox } from '../../helpers/store';

describe('Registry', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-registry-'));
    db = openStore(join(dir, 'dcu.sqlite'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes nothing for a tick that changes nothing, and raises unreachable once the silence is long enough', () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const meters = new MeterRepository(db, testSecretBox());
    meters.applySeed([{ serial: 'A', line: 'plc0', address: '1/16', client: 16, auth: 'none', gbt: true, deviationSign: 'blue-book' }], clock.now());
    const registry = new Registry(db, meters, new EventLog(db), clock, { unreachableAfterMs: 3_600_000 });
    const changes = (): number => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    registry.observe('A', { kind: 'association-ok', identity: {} });
    const before = changes();
    clock.advance(60_000);
    registry.tick();
    registry.tick();
    expect(changes()).toBe(before);
    registry.observe('A', { kind: 'link-failed', reason: 'silent' });
    clock.advance(3_600_000);
    registry.tick();
    registry.tick();
    const events = db.prepare("SELECT code FROM events WHERE code = 'unreachable'").all();
    expect(events).toHaveLength(1);
  });
});
