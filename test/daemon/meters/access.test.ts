/**
 * Keys at association: inline, by name in keysDir, or by path for a meter of the
 * configuration file only. A meter the HES or the API registered with a file path (rows
 * written before remote commands were refused paths) is refused with a typed Config error
 * before any file is opened: `/dev/zero` there grew dcud to gigabytes at each read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKeys } from '../../../daemon/meters/access';
import { ErrorCode } from '../../../protocol/common/errors';
import type { MeterRecord } from '../../../storage/meters';
import { expectDcuError } from '../../helpers/dcu-error';

const BLOCK = '000102030405060708090A0B0C0D0E0F';
const AUTH = 'D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF';

function meter(source: MeterRecord['source'], keys: NonNullable<MeterRecord['access']['keys']>): MeterRecord {
  return { serial: 'K1', line: 'ip', address: 'h:1', source, access: { client: 1, auth: 'high-gmac', gbt: true, deviationSign: 'blue-book', systemTitle: '4443553030303031', keys } } as unknown as MeterRecord;
}

describe('loadKeys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-access-'));
    writeFileSync(join(dir, 'K1.json'), JSON.stringify({ blockKey: BLOCK, authKey: AUTH }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads keys by name from keysDir, inline keys, and a configured file path', () => {
    const want = { blockKey: Buffer.from(BLOCK, 'hex'), authKey: Buffer.from(AUTH, 'hex') };
    const same = (k: { blockKey: Uint8Array; authKey: Uint8Array }) => ({ blockKey: Buffer.from(k.blockKey), authKey: Buffer.from(k.authKey) });
    expect(same(loadKeys(meter('hes', { name: 'K1' }), dir))).toEqual(want);
    expect(same(loadKeys(meter('hes', { blockKey: BLOCK, authKey: AUTH }), dir))).toEqual(want);
    expect(same(loadKeys(meter('config', { file: join(dir, 'K1.json') }), '/nowhere'))).toEqual(want);
  });

  it.each(['hes', 'local'] as const)('refuses a file path on a meter registered by %s, naming why, without opening it', (source) => {
    expect(expectDcuError(() => loadKeys(meter(source, { file: '/dev/zero' }), dir), ErrorCode.Config).message).toMatch(/meter K1: keys name a file on the box \(\/dev\/zero\) but the meter was registered by .*remote commands never name files/);
  });

  it('a device as a configured key file is refused, not read', () => {
    expect(expectDcuError(() => loadKeys(meter('config', { file: '/dev/zero' }), dir), ErrorCode.Config).message).toMatch(/key file \/dev\/zero is a character device, not a key file/);
  });
});
