/**
 * Secrets at rest: AES-256-GCM (node:crypto) under a key-encryption key (KEK) the store never
 * holds. A sealed value is one text `v1.<kek id>.<iv>.<ciphertext>.<tag>` (base64url), bound
 * to what it belongs to by the additional authenticated data (a meter's serial), so a value
 * copied to another row does not open. The KEK id (16 hex digits of a SHA-256 of the key)
 * names the key a value was sealed with without revealing it: a store opened with another
 * KEK is told apart from a damaged one.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { DcuError, ErrorCode } from '../protocol/common/errors';

export const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** The public name of a KEK: 16 hex digits of SHA-256("dcu-kek-id" ‖ key). */
export function kekId(key: Uint8Array): string {
  return createHash('sha256').update('dcu-kek-id').update(key).digest('hex').slice(0, 16);
}

/** The KEK id a sealed value names, or undefined when `text` is not a sealed value. */
export function sealedKekId(text: string): string | undefined {
  const parts = text.split('.');
  return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
}

export class SecretBox {
  readonly id: string;
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEK_BYTES) throw new DcuError(ErrorCode.Config, `a key-encryption key has ${KEK_BYTES} bytes, not ${key.length}`);
    this.key = Buffer.from(key);
    this.id = kekId(key);
  }

  seal(plain: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, this.id, iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The plain text of a sealed value; DcuError(SealedSecrets) for another KEK, a damaged value or one of another row. */
  open(sealed: string, aad: string): string {
    const parts = sealed.split('.');
    const [version, id, iv, ct, tag] = parts;
    if (parts.length !== 5 || version !== VERSION || id === undefined || iv === undefined || ct === undefined || tag === undefined) {
      throw new DcuError(ErrorCode.SealedSecrets, `the sealed secrets of ${aad} are not a ${VERSION} sealed value`, { context: { of: aad } });
    }
    if (id !== this.id) {
      throw new DcuError(ErrorCode.SealedSecrets, `the secrets of ${aad} are sealed with the key-encryption key ${id}, not with ${this.id} (the one this process has)`, { context: { of: aad, sealedWith: id, kek: this.id } });
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new DcuError(ErrorCode.SealedSecrets, `the sealed secrets of ${aad} do not open with key-encryption key ${this.id}: damaged, or copied from another row`, { cause: e, context: { of: aad, kek: this.id } });
    }
  }
}
