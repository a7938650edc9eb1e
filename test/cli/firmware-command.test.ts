/** `dcu firmware` argument handling: the campaign request and the manifest made from a file. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { activation, campaignRequest, registerFirmware, uploadManifest } from '../../cli/firmware-command';

describe('dcu firmware arguments', () => {
  it('reads --activate now | manual | at ISO', () => {
    expect(activation(['now'])).toBe('now');
    expect(activation(['manual'])).toBe('manual');
    expect(activation(['at', '2026-12-05T02:00:00Z'])).toBe('2026-12-05T02:00:00Z');
    expect(activation(undefined)).toBeUndefined();
    expect(() => activation(['later'])).toThrow(/now, manual or "at ISO-INSTANT"/);
  });

  it('builds the campaign request the daemon validates', () => {
    expect(campaignRequest({ image: 'i1', line: 'plc0', retries: '2', window: '22:00-06:00', deadline: '3d', activate: ['at', '2026-12-05T02:00:00Z'], id: 'c1' })).toEqual({
      cmd: 'fw-campaign-create',
      image: 'i1',
      lines: ['plc0'],
      retries: 2,
      window: ['22:00-06:00'],
      deadline: '3d',
      activate: '2026-12-05T02:00:00Z',
      jobId: 'c1',
    });
    expect(() => campaignRequest({ image: 'i1', all: true, retries: 'x' })).toThrow(/--retries must be a whole number/);
  });

  it('parses the command line into that request', () => {
    let seen: Record<string, unknown> | undefined;
    const program = new Command('dcu').exitOverride();
    registerFirmware(program, () => undefined, { out: () => undefined, err: () => undefined, env: {} });
    const create = program.commands.find((c) => c.name() === 'firmware')?.commands.find((c) => c.name() === 'campaign')?.commands.find((c) => c.name() === 'create');
    create?.action((o: Parameters<typeof campaignRequest>[0]) => {
      seen = campaignRequest(o);
    });
    program.parse(['firmware', 'campaign', 'create', '--image', 'i1', '--meters', 'S1,S2', '--activate', 'at', '2026-12-05T02:00:00Z', '--priority', '7'], { from: 'user' });
    expect(seen).toEqual({ cmd: 'fw-campaign-create', image: 'i1', meters: ['S1', 'S2'], priority: 7, activate: '2026-12-05T02:00:00Z' });
  });

  it('makes a manifest from the file and --target-version, or takes the vendor one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcu-fw-cli-'));
    try {
      const file = join(dir, 'fw.bin');
      writeFileSync(file, Buffer.from([1, 2, 3]));
      const sha = createHash('sha256').update(Buffer.from([1, 2, 3])).digest('hex');
      expect(uploadManifest(file, { targetVersion: 'FW-2' })).toEqual({ id: `img-${sha.slice(0, 12)}`, version: 'FW-2', size: 3, sha256: sha });
      writeFileSync(join(dir, 'm.json'), JSON.stringify({ id: 'v', version: 'FW-3' }));
      expect(uploadManifest(file, { manifest: join(dir, 'm.json') })).toEqual({ id: 'v', version: 'FW-3' });
      expect(() => uploadManifest(file, {})).toThrow(/--manifest FILE .* or --target-version V/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
