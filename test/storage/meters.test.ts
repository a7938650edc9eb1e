import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeterConfig } from '../../config/schema';
import { nextMeterState } from '../../daemon/registry/state';
import { openStore } from '../../storage/db';
import { MeterRepository } from '../../storage/meters';

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

describe('MeterRepository', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dcu-meters-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies a seed list idempotently and keeps meters added by others', () => {
    const repo = new MeterRepository(openStore(join(dir, 'dcu.sqlite')));
    repo.upsert(meter('HES0001', '1/40'), 'hes', 1);
    expect(repo.applySeed([meter('A', '1/16'), meter('B', '1/17')], 2)).toEqual({ added: ['A', 'B'], updated: [], unchanged: 0 });
    expect(repo.applySeed([meter('A', '1/16'), meter('B', '1/17')], 3)).toEqual({ added: [], updated: [], unchanged: 2 });
    expect(repo.applySeed([meter('A', '1/16')], 4)).toEqual({ added: [], updated: [], unchanged: 1 });
    expect(repo.list().map((m) => `${m.serial}:${m.source}`)).toEqual(['A:config', 'B:config', 'HES0001:hes']);
  });

  it('keeps the tracked state across a reopen; a moved meter starts over as registered', () => {
    const path = join(dir, 'dcu.sqlite');
    let repo = new MeterRepository(openStore(path));
    repo.applySeed([meter('A', '1/16')], 1);
    const t = nextMeterState(repo.get('A')!.state, { kind: 'association-ok', now: 5, identity: { firmwareId: 'FW1' } }, { unreachableAfterMs: 1000 });
    repo.saveState(t.state, 5);
    repo = new MeterRepository(openStore(path));
    expect(repo.get('A')!.state).toMatchObject({ stage: 'commissioned', lastSeen: 5, identity: { firmwareId: 'FW1' } });
    expect(repo.applySeed([meter('A', '1/16', { password: 'other' })], 6).updated).toEqual(['A']);
    expect(repo.get('A')!.state.stage).toBe('commissioned'); // credentials changed, same place
    repo.applySeed([meter('A', '1/18')], 7);
    expect(repo.get('A')!.state).toMatchObject({ stage: 'registered', reachability: 'unknown', identity: {} });
    expect(repo.get('A')!.access).toMatchObject({ client: 17, auth: 'low' });
    expect(repo.remove('A')).toBe(true);
    expect(repo.get('A')).toBeUndefined();
  });
});
