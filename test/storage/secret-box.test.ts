import { ErrorCode } from '../../protocol/common/errors';
import { kekId, SecretBox, sealedKekId } from '../../storage/secret-box';
import { expectDcuError } from '../helpers/dcu-error';

describe('SecretBox (AES-256-GCM under a KEK)', () => {
  const box = new SecretBox(Buffer.alloc(32, 1));

  it('seals to a text naming the KEK id, and opens it again; every sealing differs', () => {
    const a = box.seal('{"password":"00000000"}', 'M1');
    const b = box.seal('{"password":"00000000"}', 'M1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('00000000');
    expect(sealedKekId(a)).toBe(box.id);
    expect(box.id).toBe(kekId(Buffer.alloc(32, 1)));
    expect(box.id).toMatch(/^[0-9a-f]{16}$/);
    expect(box.open(a, 'M1')).toBe('{"password":"00000000"}');
  });

  it('refuses another KEK, another row and a flipped byte with a typed error', () => {
    const sealed = box.seal('secret', 'M1');
    const other = new SecretBox(Buffer.alloc(32, 2));
    expect(expectDcuError(() => other.open(sealed, 'M1'), ErrorCode.SealedSecrets).message).toContain(`sealed with the key-encryption key ${box.id}, not with ${other.id}`);
    expect(expectDcuError(() => box.open(sealed, 'M2'), ErrorCode.SealedSecrets).message).toContain('copied from another row');
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct.writeUInt8(ct.readUInt8(0) ^ 1, 0);
    parts[3] = ct.toString('base64url');
    expectDcuError(() => box.open(parts.join('.'), 'M1'), ErrorCode.SealedSecrets);
    expectDcuError(() => box.open('not sealed', 'M1'), ErrorCode.SealedSecrets);
  });

  it('takes 32-byte keys only', () => {
    expectDcuError(() => new SecretBox(Buffer.alloc(16)), ErrorCode.Config);
  });
});
