/**
 * Firmware image intake: HES chunks (resumable, missing ones listed), the technician's whole
 * upload, and every way an image is refused before any block could go out — a corrupted
 * chunk, a wrong hash or size, a bad or unknown signature, an unsigned image when signatures
 * are required — and the check again before a campaign starts.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../config/schema';
import { validateConfig } from '../../../config/validate';
import type { FirmwareCampaigns } from '../../../daemon/firmware/campaigns';
import { ImageLibrary } from '../../../daemon/firmware/images';
import { HesCommands } from '../../../daemon/hes/commands';
import { nullLogger } from '../../../protocol/common/log';
import { targetProblem } from '../../../daemon/firmware/transfer';
import { FakeClock } from '../../../protocol/common/clock';
import { ErrorCode } from '../../../protocol/common/errors';
import { openStore, type Db } from '../../../storage/db';
import { FirmwareStore } from '../../../storage/firmware';
import { expectDcuError } from '../../helpers/dcu-error';

const IMAGE = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 31 + 5) & 0xff);
const SHA = createHash('sha256').update(IMAGE).digest('hex');
const ed = generateKeyPairSync('ed25519');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: { export(o: { type: 'spki'; format: 'pem' }): string | Buffer }): string => String(k.export({ type: 'spki', format: 'pem' }));
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
/** Cut as a HES does: n chunks of the manifest's chunk size (size ÷ n rounded up), the last one the rest. */
const chunksOf = (bytes: Uint8Array, n: number, size = Math.ceil(bytes.length / n)): string[] => Array.from({ length: n }, (_, i) => b64(bytes.subarray(i * size, (i + 1) * size)));

describe('firmware image intake', () => {
  let dir: string;
  let db: Db;
  let store: FirmwareStore;
  const clock = new FakeClock(Date.UTC(2026, 11, 1));
  const library = (firmware: Record<string, unknown> = {}): ImageLibrary => {
    const config: Config = validateConfig({ id: 'dcu-test', stateDir: dir, firmware: { publicKeys: [{ id: 'vendor-ed', type: 'ed25519', key: pem(ed.publicKey) }, { id: 'vendor-ec', type: 'ecdsa-p256', key: pem(ec.publicKey) }], ...firmware } });
    return new ImageLibrary({ config, clock, store });
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dcu-fw-img-'));
    db = openStore(join(dir, 'dcu.sqlite'));
    store = new FirmwareStore(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes an image in chunks, in any order, across a resume; lists what is missing; completes only when it verifies', () => {
    const lib = library();
    const chunks = chunksOf(IMAGE, 4);
    const manifest = { id: 'img-1', version: 'FW-2', size: IMAGE.length, sha256: SHA, chunks: 4 };
    expect(lib.manifest(manifest)).toMatchObject({ state: 'receiving', missing: [0, 1, 2, 3] });
    expect(lib.chunk('img-1', 2, chunks[2] ?? '')).toMatchObject({ state: 'receiving', missing: [0, 1, 3] });
    expect(lib.chunk('img-1', 0, chunks[0] ?? '').missing).toEqual([1, 3]);
    // The WAN drops; the HES sends the manifest again and gets what is still missing.
    expect(lib.manifest(manifest).missing).toEqual([1, 3]);
    expect(lib.chunk('img-1', 0, chunks[0] ?? '').missing).toEqual([1, 3]);
    lib.chunk('img-1', 3, chunks[3] ?? '');
    expect(lib.chunk('img-1', 1, chunks[1] ?? '')).toMatchObject({ state: 'complete', missing: [] });
    expect(Buffer.from(lib.loadVerified('img-1').bytes).equals(Buffer.from(IMAGE))).toBe(true);
    expect(store.chunkNumbers('img-1')).toEqual([]);
  });

  it('refuses a chunk not cut as the manifest says (nothing stored), so the right one still completes the image', () => {
    const lib = library();
    lib.manifest({ id: 'cut', version: 'FW-2', size: IMAGE.length, sha256: SHA, chunkSize: 1000 });
    expect(lib.status('cut')).toMatchObject({ chunks: 10, missing: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    const right = chunksOf(IMAGE, 10, 1000);
    for (const wrong of [Buffer.alloc(45_000, 1), Buffer.alloc(0), Buffer.from(IMAGE.subarray(0, 999))]) {
      const e = expectDcuError(() => lib.chunk('cut', 0, b64(wrong)), ErrorCode.Usage);
      expect(e.message).toContain(`${wrong.length} bytes, but it must have 1000`);
    }
    expect(lib.status('cut').missing).toContain(0);
    right.forEach((c, i) => lib.chunk('cut', i, c));
    expect(lib.status('cut')).toMatchObject({ state: 'complete', missing: [] });

    // The last chunk has the rest: 10,500 bytes in chunks of 1000 end with 500.
    const odd = Uint8Array.from({ length: 10_500 }, (_, i) => i & 0xff);
    lib.manifest({ id: 'odd', version: 'FW-2', size: odd.length, sha256: createHash('sha256').update(odd).digest('hex'), chunks: 11, chunkSize: 1000 });
    expect(expectDcuError(() => lib.chunk('odd', 10, b64(odd.subarray(9000, 10_000))), ErrorCode.Usage).message).toContain('must have 500');
    chunksOf(odd, 11, 1000).forEach((c, i) => lib.chunk('odd', i, c));
    expect(lib.status('odd').state).toBe('complete');
    // A manifest whose chunks cannot be cut so is refused at once.
    expect(() => lib.manifest({ id: 'bad', version: 'FW-2', size: 10_500, sha256: SHA, chunks: 10, chunkSize: 1000 })).toThrow(/make 11 chunks, not 10/);
    expect(() => lib.manifest({ id: 'big', version: 'FW-2', size: 100_000, sha256: SHA })).toThrow(/over the 45000 a chunk can carry/);
  });

  it('takes the same chunk twice, refuses other bytes for a chunk it has, and answers a chunk for a complete image with its state', () => {
    const lib = library();
    const chunks = chunksOf(IMAGE, 4);
    lib.manifest({ id: 'dup', version: 'FW-2', size: IMAGE.length, sha256: SHA, chunks: 4 });
    lib.chunk('dup', 1, chunks[1] ?? '');
    expect(lib.chunk('dup', 1, chunks[1] ?? '').missing).toEqual([0, 2, 3]);
    const other = Buffer.from(chunks[1] ?? '', 'base64');
    other[0] = (other[0] ?? 0) ^ 0xff;
    expect(expectDcuError(() => lib.chunk('dup', 1, b64(other)), ErrorCode.Conflict).message).toMatch(/received already with other bytes/);
    for (const i of [0, 2, 3]) lib.chunk('dup', i, chunks[i] ?? '');
    expect(lib.status('dup')).toMatchObject({ state: 'complete' }); // the first chunk 1 stayed
    expect(lib.chunk('dup', 1, b64(other))).toMatchObject({ state: 'complete', missing: [] });
    expect(lib.chunk('dup', 0, '')).toMatchObject({ state: 'complete' });
  });

  it('refuses at once a manifest whose signature cannot be one (not base64, or not the shape of its key type)', () => {
    const lib = library();
    const base = { version: 'FW-2', size: IMAGE.length, sha256: SHA, chunks: 2 };
    for (const keyId of ['vendor-ed', 'vendor-ec']) {
      const e = expectDcuError(() => lib.manifest({ ...base, id: `sig-${keyId}`, keyId, signature: 'AAAA' }), ErrorCode.ImageRejected);
      expect(e.message).toMatch(/signature cannot be one of key/);
      expectDcuError(() => lib.manifest({ ...base, id: `sig-${keyId}`, keyId, signature: 'not base64!' }), ErrorCode.ImageRejected);
      expectDcuError(() => lib.manifest({ ...base, id: `sig-${keyId}`, keyId, signature: 'AAA' }), ErrorCode.ImageRejected);
    }
    expect(lib.list()).toEqual([]);
    const ok = lib.manifest({ ...base, id: 'sig-ok', keyId: 'vendor-ec', signature: b64(sign('sha256', IMAGE, ec.privateKey)) });
    expect(ok.state).toBe('receiving');
  });

  it('rejects an image with a corrupted chunk (hash), and takes it again after a new manifest', () => {
    const lib = library();
    const chunks = chunksOf(IMAGE, 2);
    const bad = Buffer.from(chunks[1] ?? '', 'base64');
    bad[7] = (bad[7] ?? 0) ^ 0x01;
    lib.manifest({ id: 'img-2', version: 'FW-2', size: IMAGE.length, sha256: SHA, chunks: 2 });
    lib.chunk('img-2', 0, chunks[0] ?? '');
    const r = lib.chunk('img-2', 1, b64(bad));
    expect(r.state).toBe('rejected');
    expect(r.reason).toMatch(/SHA-256 .* differs/);
    expect(() => lib.loadVerified('img-2')).toThrow(expect.objectContaining({ code: ErrorCode.ImageRejected }));
    lib.manifest({ id: 'img-2', version: 'FW-2', size: IMAGE.length, sha256: SHA, chunks: 2 });
    lib.chunk('img-2', 0, chunks[0] ?? '');
    expect(lib.chunk('img-2', 1, chunks[1] ?? '').state).toBe('complete');
  });

  it('refuses a wrong hash or size at upload, keeping nothing', () => {
    const lib = library();
    expect(() => lib.upload({ id: 'x', version: 'FW-2', size: IMAGE.length, sha256: '0'.repeat(64) }, IMAGE)).toThrow(/SHA-256/);
    expect(() => lib.upload({ id: 'x', version: 'FW-2', size: IMAGE.length + 1, sha256: SHA }, IMAGE)).toThrow(/bytes, the manifest says/);
    expect(lib.list()).toEqual([]);
  });

  it('verifies Ed25519 and ECDSA P-256 signatures and refuses bad or unknown ones', () => {
    const lib = library({ requireSignature: true });
    const base = { version: 'FW-2', size: IMAGE.length, sha256: SHA };
    expect(lib.upload({ ...base, id: 'ed', keyId: 'vendor-ed', signature: b64(sign(null, IMAGE, ed.privateKey)) }, IMAGE).state).toBe('complete');
    expect(lib.upload({ ...base, id: 'ec', keyId: 'vendor-ec', signature: b64(sign('sha256', IMAGE, ec.privateKey)) }, IMAGE).state).toBe('complete');
    const other = generateKeyPairSync('ed25519');
    expect(() => lib.upload({ ...base, id: 'bad', keyId: 'vendor-ed', signature: b64(sign(null, IMAGE, other.privateKey)) }, IMAGE)).toThrow(/signature does not verify/);
    expect(() => lib.upload({ ...base, id: 'unknown', keyId: 'nobody', signature: b64(sign(null, IMAGE, ed.privateKey)) }, IMAGE)).toThrow(/not configured/);
    expect(() => lib.upload({ ...base, id: 'unsigned' }, IMAGE)).toThrow(/requireSignature/);
    expect(() => lib.manifest({ ...base, id: 'unsigned', chunks: 2 })).toThrow(/requireSignature/);
  });

  it('checks the stored file again before use: an altered file is refused', () => {
    const lib = library();
    lib.upload({ id: 'img-3', version: 'FW-2', size: IMAGE.length, sha256: SHA }, IMAGE);
    const file = store.image('img-3')?.file ?? '';
    const altered = Buffer.from(IMAGE);
    altered[100] = (altered[100] ?? 0) ^ 0xff;
    writeFileSync(join(dir, file), altered);
    expect(() => lib.loadVerified('img-3')).toThrow(expect.objectContaining({ code: ErrorCode.ImageRejected }));
  });

  it('stores an image once however often it is uploaded, and refuses another content under the same id', () => {
    const lib = library();
    lib.upload({ id: 'img-4', version: 'FW-2', size: IMAGE.length, sha256: SHA }, IMAGE);
    lib.upload({ id: 'img-4', version: 'FW-2', size: IMAGE.length, sha256: SHA }, IMAGE);
    expect(lib.list().length).toBe(1);
    const other = IMAGE.slice(1);
    expect(() => lib.upload({ id: 'img-4', version: 'FW-3', size: other.length, sha256: createHash('sha256').update(other).digest('hex') }, other)).toThrow(expect.objectContaining({ code: ErrorCode.Conflict }));
  });

  it('names why an image is not for a meter (model, current version)', () => {
    const m = { id: 'i', version: 'FW-2', size: 1, sha256: SHA, model: 'DCU', fromVersions: ['FW-1'] };
    expect(targetProblem(m, { model: 'DCUSIM000001', firmware: 'FW-1' })).toBeUndefined();
    expect(targetProblem(m, { model: 'ABC123', firmware: 'FW-1' })).toMatch(/for model DCU/);
    expect(targetProblem(m, { model: 'DCUSIM000001', firmware: 'FW-0' })).toMatch(/replaces FW-1/);
  });

  it('takes an image from the HES over fw-image: manifest, chunks, the missing ones in every answer', () => {
    const lib = library();
    const answers: Record<string, unknown>[] = [];
    const hes = new HesCommands({ config: validateConfig({ id: 'dcu-test', stateDir: dir }), clock, logger: nullLogger, scheduler: {} as never, meters: {} as never, status: () => ({}), firmware: { images: lib, campaigns: undefined as unknown as FirmwareCampaigns } });
    const send = (doc: unknown): Record<string, unknown> => {
      hes.handle('fw-image', new TextEncoder().encode(JSON.stringify(doc)), (a) => answers.push(a));
      return answers[answers.length - 1] ?? {};
    };
    const chunks = chunksOf(IMAGE, 3);
    expect(send({ manifest: { id: 'h1', version: 'FW-2', size: IMAGE.length, sha256: SHA, chunks: 3 }, correlationId: 'c1' })).toMatchObject({ command: 'fw-image', correlationId: 'c1', type: 'ok', image: { state: 'receiving', missing: [0, 1, 2] } });
    expect(send({ image: 'h1', chunk: 1, data: chunks[1] })).toMatchObject({ image: { missing: [0, 2] } });
    expect(send({ image: 'h1' })).toMatchObject({ image: { missing: [0, 2] } });
    send({ image: 'h1', chunk: 0, data: chunks[0] });
    expect(send({ image: 'h1', chunk: 2, data: chunks[2] })).toMatchObject({ image: { state: 'complete', missing: [] } });
    expect(send({ image: 'h1', chunk: 7, data: 'AAAA' })).toMatchObject({ image: { state: 'complete' } });
    expect(send({ manifest: { id: 'h2', version: 'FW-2', size: 0, sha256: SHA } })).toMatchObject({ type: 'error', error: { code: ErrorCode.Usage } });
  });
});
