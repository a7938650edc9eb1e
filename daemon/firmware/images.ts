/**
 * Firmware image intake. A manifest first (image id, target version, size, SHA-256, target
 * model and current-version constraint, optional vendor signature), then the bytes: in
 * numbered base64 chunks from the HES (resumable: each answer lists the chunks still
 * missing; every chunk but the last has the manifest's chunk size; a chunk received twice
 * must carry the same bytes) or whole from the technician. The
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
/** The most a chunk can carry: fw-image's `data` holds at most 60,000 base64 characters. */
export const MAX_CHUNK_BYTES = 45_000;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const ManifestSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'image id (names it in campaigns)' }),
    version: Type.String({ minLength: 1, maxLength: 64, description: "the meter's active firmware identifier (1.0.0.2.0.255) once this image runs" }),
    identifier: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'image_identifier sent to the meter (IC 18 initiate; default: version)' })),
    size: Type.Integer({ minimum: 1, maximum: MAX_IMAGE_BYTES, description: 'image size, bytes' }),
    sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of the image, hex' }),
    chunks: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CHUNKS, description: 'number of chunks that follow (HES intake)' })),
    chunkSize: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CHUNK_BYTES, description: 'bytes of every chunk but the last (HES intake; default: size ÷ chunks, rounded up); the last one has the rest' })),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: "target meter model: a prefix of the meter's logical device name" })),
    fromVersions: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, description: 'the active firmware versions this image may replace' })),
    signature: Type.Optional(Type.String({ minLength: 4, maxLength: 512, pattern: BASE64.source, description: "vendor signature of the image bytes, base64 (Ed25519: 64 bytes, or ECDSA P-256/SHA-256 DER)" })),
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

/** How the HES cuts an image: the number of chunks and the size of every chunk but the last. */
export function chunkLayout(m: Manifest): { chunks: number; chunkSize: number } {
  const chunks = m.chunks ?? (m.chunkSize === undefined ? 1 : Math.ceil(m.size / m.chunkSize));
  const chunkSize = m.chunkSize ?? Math.ceil(m.size / chunks);
  return { chunks, chunkSize };
}

/** The bytes chunk n must have. */
const expectedChunkBytes = (m: Manifest, n: number): number => {
  const { chunks, chunkSize } = chunkLayout(m);
  return n < chunks - 1 ? chunkSize : m.size - (chunks - 1) * chunkSize;
};

/** Why a signature cannot be one of its key type at all (undefined when its shape is right). */
export function signatureShapeProblem(type: 'ed25519' | 'ecdsa-p256', sig: Uint8Array): string | undefined {
  if (type === 'ed25519') return sig.length === 64 ? undefined : `an Ed25519 signature is 64 bytes, this one ${sig.length}`;
  // DER: SEQUENCE { INTEGER r, INTEGER s }, each 1..33 bytes
  const rLen = sig[3] ?? 0;
  const sAt = 4 + rLen;
  const sLen = sig[sAt + 1] ?? 0;
  const ok = sig.length >= 8 && sig.length <= 72 && sig[0] === 0x30 && sig[1] === sig.length - 2 && sig[2] === 0x02 && rLen >= 1 && rLen <= 33 && sig[sAt] === 0x02 && sLen >= 1 && sLen <= 33 && sAt + 2 + sLen === sig.length;
  return ok ? undefined : `an ECDSA P-256 signature is DER (SEQUENCE of two INTEGERs, 8 to 72 bytes); these ${sig.length} bytes are not`;
}

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
    const { chunks, chunkSize } = chunkLayout(m);
    if (m.chunks !== undefined && m.chunkSize !== undefined && Math.ceil(m.size / m.chunkSize) !== m.chunks) {
      throw rejected(`manifest ${m.id}: ${m.size} bytes in chunks of ${m.chunkSize} make ${Math.ceil(m.size / m.chunkSize)} chunks, not ${m.chunks}; give one of chunks or chunkSize, or both consistent`, { image: m.id });
    }
    if (chunkSize > MAX_CHUNK_BYTES) throw rejected(`manifest ${m.id}: chunks of ${chunkSize} bytes, over the ${MAX_CHUNK_BYTES} a chunk can carry (60,000 base64 characters); give chunks ≥ ${Math.ceil(m.size / MAX_CHUNK_BYTES)} or chunkSize ≤ ${MAX_CHUNK_BYTES}`, { image: m.id });
    if (chunks > MAX_CHUNKS) throw rejected(`manifest ${m.id}: ${chunks} chunks, over ${MAX_CHUNKS}; give a larger chunkSize`, { image: m.id });
    if (m.size - (chunks - 1) * chunkSize < 1) throw rejected(`manifest ${m.id}: ${m.size} bytes do not make ${chunks} chunks of ${chunkSize} (the last would be empty); give fewer chunks`, { image: m.id });
    const have = this.deps.store.image(m.id);
    if (have !== undefined && have.state !== 'rejected') {
      const same = have.sha256 === m.sha256 && have.size === m.size;
      if (!same) throw new DcuError(ErrorCode.Conflict, `image ${m.id} exists with another content (sha256 ${have.sha256}); give the new image another id`);
      return this.status(m.id);
    }
    this.deps.store.putImage({ id: m.id, manifest: m, size: m.size, sha256: m.sha256, chunks }, this.deps.clock.now());
    return this.status(m.id);
  }

  /**
   * Stores one chunk (0-based); when the last one arrives the image is assembled and verified.
   * A complete or rejected image answers with its state. A chunk of the wrong size is refused
   * (nothing stored, so the right one can follow); the same chunk again is fine, other bytes
   * for a chunk already stored are refused.
   */
  chunk(id: string, n: number, base64: string): ImageStatus {
    const have = this.deps.store.image(id);
    if (have === undefined) throw new DcuError(ErrorCode.Usage, `no image ${id}: send its manifest first (fw-image with "manifest")`);
    if (have.state !== 'receiving') return this.status(id);
    if (!Number.isInteger(n) || n < 0 || n >= have.chunks) throw new DcuError(ErrorCode.Usage, `image ${id}: chunk ${n} is out of range 0..${have.chunks - 1}`);
    if (!BASE64.test(base64)) throw new DcuError(ErrorCode.Usage, `image ${id} chunk ${n}: data is not base64 (A-Z a-z 0-9 + /, padded with = to a multiple of 4)`);
    const bytes = Buffer.from(base64, 'base64');
    const m = have.manifest as Manifest;
    const want = expectedChunkBytes(m, n);
    if (bytes.length !== want) {
      const { chunkSize } = chunkLayout(m);
      throw new DcuError(ErrorCode.Usage, `image ${id} chunk ${n}: ${bytes.length} bytes, but it must have ${want} (every chunk ${chunkSize} bytes, the last one the rest of the ${m.size}); nothing stored, send it again cut as the manifest says`, { context: { image: id, chunk: n, bytes: bytes.length, expected: want } });
    }
    const stored = this.deps.store.chunk(id, n);
    if (stored !== undefined) {
      if (stored.equals(bytes)) return this.status(id);
      throw new DcuError(ErrorCode.Conflict, `image ${id} chunk ${n} was received already with other bytes; a chunk is not replaced: if the first one was wrong the image is rejected when complete, then send the manifest and every chunk again`, { context: { image: id, chunk: n } });
    }
    this.deps.store.putChunk(id, n, bytes);
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
    const k = m.keyId === undefined ? undefined : this.keys.get(m.keyId);
    const shape = k === undefined ? undefined : signatureShapeProblem(k.type, Buffer.from(m.signature, 'base64'));
    if (shape !== undefined) throw rejected(`image ${m.id}: its signature cannot be one of key ${m.keyId ?? ''}: ${shape}; give the signature the vendor published (base64)`, { image: m.id });
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
