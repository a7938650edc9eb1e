import {
  SECURITY_POLICIES,
  decodeSecurityControl,
  encodeSecurityControl,
  policyOf,
  securityControlFor,
} from '../../../protocol/security/security-control';

describe('security control byte', () => {
  it.each([
    ['none', 0x00],
    ['auth', 0x10],
    ['enc', 0x20],
    ['auth-enc', 0x30],
  ] as const)('policy %s is SC 0x%s for suite 0', (policy, byte) => {
    expect(encodeSecurityControl(securityControlFor(policy))).toBe(byte);
    expect(policyOf(decodeSecurityControl(byte))).toBe(policy);
  });

  it('decodes every bit', () => {
    expect(decodeSecurityControl(0xf2)).toEqual({ suite: 2, authenticated: true, encrypted: true, broadcastKey: true, compressed: true });
    expect(decodeSecurityControl(0x41)).toEqual({ suite: 1, authenticated: false, encrypted: false, broadcastKey: true, compressed: false });
  });

  it('round-trips all 256 values', () => {
    for (let b = 0; b < 256; b++) expect(encodeSecurityControl(decodeSecurityControl(b))).toBe(b);
  });

  it('sets the broadcast bit and suite on request', () => {
    expect(encodeSecurityControl(securityControlFor('auth-enc', { broadcastKey: true, suite: 1 }))).toBe(0x71);
    expect(SECURITY_POLICIES).toHaveLength(4);
  });

  it('rejects a suite that does not fit four bits', () => {
    expect(() => encodeSecurityControl({ ...securityControlFor('auth'), suite: 16 })).toThrow(RangeError);
  });
});
