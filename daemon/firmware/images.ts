/**
 * Firmware image intake. A manifest first (image id, target version, size, SHA-256, target
 * model and current-version constraint, optional vendor signature), then the bytes: in
 * numbered base64 chunks from the HES (resumable: each answer lists the chunks still
 * missing; a chunk received twice is simply replaced) or whole from the technician. The
 * image is complete only when its size and hash verify — and its signature, by a public key
 * configured on the box, when present or required. It is stored once, as a file
 * `<stateDir>/firmware/<sha256>.bin` referenced from SQLite, and verified again before every
 * campaign start (`loadVerified`).
 */
import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config/schema';
import { schemaProblems } from '../../config/validate';
import type { Clock } from '../../protocol/common/clock';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import type { FirmwareStore, ImageRecord } from '../../storage/firmware';

export const MAX_IMAGE_BYTES = 16 * 1024 * 1024;
export const MAX_CHUNKS = 4096;

export const ManifestSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'image id (names it in campaigns)' }),
    version: Type.String({ minLength: 1, maxLength: 64, description: "the meter's active firmware identifier (1.0.0.2.0.255) once this image runs" }),
    identifier: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'image_identifier sent to the meter (IC 18 initiate; default: version)' })),
    size: Type.Integer({ minimum: 1, maximum: MAX_IMAGE_BYTES, description: 'image size, bytes' }),
    sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of the image, hex' }),
    chunks: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CHUNKS, description: 'number of chunks that follow (HES intake)' })),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: "target meter model: a prefix of the meter's logical device name" })),
    fromVersions: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, description: 'the active firmware versions this image may replace' })),
    signature: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: "vendor signature of the image bytes, base64 (Ed25519, or ECDSA P-256/SHA-256 DER)" })),
    keyId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'id of the configured public key (firmware.publicKeys) that signed it' })),
  },
  { additionalProperties: false },
);
export type Manifest = Static<typeof ManifestSchema>;

const checkManifest = new Ajv({ allErrors: true, strict: false }).compile(ManifestSchema);

const rejected = (message: string, context: Record<string, string | number> = {}): DcuError => new DcuError(ErrorCode.ImageRejected, message, { context });

export function parseManifest(raw: unknown): Manifest {
  if (!checkManifest(raw)) {
    const problems = schemaProblems(checkManifest.errors ?? [], raw);
    throw rejected(`invalid firmware manifest: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
  const doc = raw as Manifest;
  if ((doc.signature === undefined) !== (doc.keyId === undefined)) throw rejected(`manifest ${doc.id}: signature and keyId go together (the key that signed the image must be named)`);
  return { ...doc, sha256: doc.sha256.toLowerCase() };
}

export const imageIdentifier = (m: Manifest): string => m.identifier ?? m.version;

export interface ImageStatus {
  readonly id: string;
  readonly state: ImageRecord['state'];
  readonly size: number;
  readonly sha256: string;
  readonly version: string;
  readonly chunks: number;
  /** Chunks still missing (receiving only). */
  readonly missing: readonly number[];
  readonly reason: string | null;
}

export class ImageLibrary {
  private readonly keys = new Map<string, { type: 'ed25519' | 'ecdsa-p256'; key: ReturnType<typeof createPublicKey> }>();

  constructor(
    private readonly deps: { readonly config: Config; readonly clock: Clock; readonly store: FirmwareStore },
  ) {
    for (const k of deps.config.firmware.publicKeys) {
      try {
        this.keys.set(k.id, { type: k.type, key: createPublicKey(k.key) });
      } catch (e) {
        throw new DcuError(ErrorCode.Config, `firmware.publicKeys ${k.id}: not a PEM public key (${(e as Error).message}); give the SPKI PEM the vendor publishes`, { cause: e });
      }
    }
  }

  /** Registers a manifest (HES intake); the same manifest again is a resume: its status is answered. */
  manifest(doc: unknown): ImageStatus {
    const m = parseManifest(doc);
    this.checkSignaturePolicy(m);
    const have = this.deps.store.image(m.id);
    if (have !== undefined && have.state !== 'rejected') {
      const same = have.sha256 === m.sha256 && have.size === m.size;
      if (!same) throw new DcuError(ErrorCode.Conflict, `image ${m.id} exists with another content (sha256 ${have.sha256}); give the new image another id`);
      return this.status(m.id);
    }
    this.deps.store.putImage({ id: m.id, manifest: m, size: m.size, sha256: m.sha256, chunks: m.chunks ?? 1 }, this.deps.clock.now());
    return this.status(m.id);
  }

  /** Stores one chunk (0-based); when the last one arrives the image is assembled and verified. */
  chunk(id: string, n: number, base64: string): ImageStatus {
    const have = this.deps.store.image(id);
    if (have === undefined) throw new DcuError(ErrorCode.Usage, `no image ${id}: send its manifest first (fw-image with "manifest")`);
    if (have.state !== 'receiving') return this.status(id);
    if (!Number.isInteger(n) || n < 0 || n >= have.chunks) throw new DcuError(ErrorCode.Usage, `image ${id}: chunk ${n} is out of range 0..${have.chunks - 1}`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new DcuError(ErrorCode.Usage, `image ${id} chunk ${n}: data is not base64`);
    this.deps.store.putChunk(id, n, Buffer.from(base64, 'base64'));
    if (this.deps.store.chunkNumbers(id).length === have.chunks) this.assemble(have);
    return this.status(id);
  }

  /** A whole image from the technician: verified and stored, or rejected (nothing kept). */
  upload(doc: unknown, bytes: Uint8Array): ImageStatus {
    const m = parseManifest(doc);
    this.checkSignaturePolicy(m);
    this.verifyBytes(m, bytes);
    const have = this.deps.store.image(m.id);
    if (have !== undefined && have.state === 'complete') {
      if (have.sha256 !== m.sha256) throw new DcuError(ErrorCode.Conflict, `image ${m.id} exists with another content (sha256 ${have.sha256}); give the new image another id`);
      return this.status(m.id);
    }
    this.deps.store.putImage({ id: m.id, manifest: m, size: m.size, sha256: m.sha256, chunks: 1 }, this.deps.clock.now());
    this.deps.store.settleImage(m.id, { state: 'complete', file: this.writeFile(m, bytes) }, this.deps.clock.now());
    return this.status(m.id);
  }

  status(id: string): ImageStatus {
    const r = this.deps.store.image(id);
    if (r === undefined) throw new DcuError(ErrorCode.Usage, `no image ${id}; list them with dcu firmware images`);
    const m = r.manifest as Manifest;
    let missing: number[] = [];
    if (r.state === 'receiving') {
      const got = new Set(this.deps.store.chunkNumbers(id));
      missing = Array.from({ length: r.chunks }, (_, i) => i).filter((i) => !got.has(i));
    }
    return { id: r.id, state: r.state, size: r.size, sha256: r.sha256, version: m.version, chunks: r.chunks, missing, reason: r.reason };
  }

  list(): ImageStatus[] {
    return this.deps.store.images().map((r) => this.status(r.id));
  }

  /**
   * The image's manifest and bytes, verified again (size, hash, signature) from the stored
   * file: a campaign starts only on an image that verifies now.
   */
  loadVerified(id: string): { manifest: Manifest; bytes: Uint8Array } {
    const r = this.deps.store.image(id);
    if (r === undefined) throw rejected(`no image ${id}; upload it first (dcu firmware upload, or fw-image from the HES)`, { image: id });
    if (r.state !== 'complete' || r.file === null) throw rejected(`image ${id} is ${r.state}${r.reason === null ? '' : ` (${r.reason})`}: only a complete, verified image can be used; send the missing chunks or the image again`, { image: id });
    const m = parseManifest(r.manifest);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(this.deps.config.stateDir, r.file));
    } catch (e) {
      throw rejected(`image ${id}: its file ${r.file} cannot be read (${(e as Error).message}); upload the image again`, { image: id });
    }
    this.checkSignaturePolicy(m);
    this.verifyBytes(m, bytes);
    return { manifest: m, bytes };
  }

  private assemble(r: ImageRecord): void {
    const m = r.manifest as Manifest;
    const bytes = Buffer.concat(this.deps.store.chunkBytes(r.id));
    const now = this.deps.clock.now();
    try {
      this.verifyBytes(m, bytes);
    } catch (e) {
      this.deps.store.settleImage(r.id, { state: 'rejected', reason: (e as Error).message }, now);
      return;
    }
    this.deps.store.settleImage(r.id, { state: 'complete', file: this.writeFile(m, bytes) }, now);
  }

  private checkSignaturePolicy(m: Manifest): void {
    if (m.signature === undefined) {
      if (this.deps.config.firmware.requireSignature) throw rejected(`image ${m.id} has no signature and firmware.requireSignature is set: ask the vendor for a signed manifest`, { image: m.id });
      return;
    }
    if (m.keyId !== undefined && !this.keys.has(m.keyId)) throw rejected(`image ${m.id} is signed with key ${m.keyId}, not configured here (firmware.publicKeys: ${[...this.keys.keys()].join(', ') || 'none'})`, { image: m.id });
  }

  private verifyBytes(m: Manifest, bytes: Uint8Array): void {
    if (bytes.length !== m.size) throw rejected(`image ${m.id}: ${bytes.length} bytes, the manifest says ${m.size}; send it again`, { image: m.id });
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== m.sha256) throw rejected(`image ${m.id}: SHA-256 ${sha} differs from the manifest's ${m.sha256} (a corrupted chunk or the wrong file); send it again`, { image: m.id });
    if (m.signature === undefined || m.keyId === undefined) return;
    const k = this.keys.get(m.keyId);
    if (k === undefined) throw rejected(`image ${m.id}: key ${m.keyId} is not configured (firmware.publicKeys)`, { image: m.id });
    const sig = Buffer.from(m.signature, 'base64');
    let ok = false;
    try {
      ok = verify(k.type === 'ed25519' ? null : 'sha256', bytes, k.key, sig);
    } catch {
      ok = false;
    }
    if (!ok) throw rejected(`image ${m.id}: the ${k.type} signature does not verify with key ${m.keyId}; the image or its manifest was altered, or signed with another key`, { image: m.id });
  }

  private writeFile(m: Manifest, bytes: Uint8Array): string {
    const dir = join(this.deps.config.stateDir, 'firmware');
    mkdirSync(dir, { recursive: true });
    const rel = join('firmware', `${m.sha256}.bin`);
    const path = join(this.deps.config.stateDir, rel);
    const tmp = `${path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    return rel;
  }
}
