/** Security setup (64), versions 0 and 1. */
import type { ClassDescriptor } from './types';
import { AttributeAccess as A, LOGICAL_NAME, attr, method, restrict, t } from './types';

/** Version 0 policy; version 1 reads the same enum as bit flags (see security/). */
export const SECURITY_POLICY_V0_NAMES = { 0: 'nothing', 1: 'all messages authenticated', 2: 'all messages encrypted', 3: 'all messages authenticated and encrypted' };
export const SECURITY_SUITE_NAMES = { 0: 'AES-GCM-128', 1: 'ECDH-ECDSA-AES-GCM-128-SHA-256', 2: 'ECDH-ECDSA-AES-GCM-256-SHA-384' };
export const KEY_ID_NAMES = { 0: 'global unicast encryption key', 1: 'global broadcast encryption key', 2: 'authentication key', 3: 'master key (KEK)' };

const KEY_DATA = t.array(t.struct({ key_id: t.enum(KEY_ID_NAMES), key_wrapped: t.octets() }));
const CERTIFICATE_ID = t.struct({ certificate_identification_type: t.enum(), certificate_identification_options: t.any() });

export const SECURITY_SETUP: ClassDescriptor = {
  id: 64,
  name: 'Security setup',
  key: 'security-setup',
  version: 1,
  attributes: [
    LOGICAL_NAME,
    attr(2, 'security_policy', t.enum(), true, A.readWrite),
    attr(3, 'security_suite', t.enum(SECURITY_SUITE_NAMES), true),
    attr(4, 'client_system_title', t.octets(), false),
    attr(5, 'server_system_title', t.octets(), true),
    attr(
      6,
      'certificates',
      t.array(
        t.struct({
          certificate_entity: t.enum(),
          certificate_type: t.enum(),
          serial_number: t.octets(),
          issuer: t.octets(),
          subject: t.octets(),
          subject_alt_name: t.octets(),
        }),
      ),
      false,
    ),
  ],
  methods: [
    method(1, 'security_activate', t.enum()),
    method(2, 'key_transfer', KEY_DATA),
    method(3, 'key_agreement', t.array(t.struct({ key_id: t.enum(), key_ciphered_data: t.octets() }))),
    method(4, 'generate_key_pair', t.enum()),
    method(5, 'generate_certificate_request', t.enum()),
    method(6, 'import_certificate', t.octets()),
    method(7, 'export_certificate', CERTIFICATE_ID),
    method(8, 'remove_certificate', CERTIFICATE_ID),
  ],
};

export const SECURITY_SETUP_V0: ClassDescriptor = (() => {
  const base = restrict(SECURITY_SETUP, 0, 5, 2);
  return {
    ...base,
    attributes: base.attributes.map((a) => (a.index === 2 ? { ...a, type: t.enum(SECURITY_POLICY_V0_NAMES) } : a)),
    methods: [method(1, 'security_activate', t.enum(SECURITY_POLICY_V0_NAMES)), method(2, 'global_key_transfer', KEY_DATA)],
  };
})();
