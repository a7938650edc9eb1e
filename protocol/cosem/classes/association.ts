/** Association LN (15, versions 0–2) and SAP assignment (17). */
import { t } from './types';
import type { ClassDescriptor, ValueType } from './types';
import { AttributeAccess as A, LOGICAL_NAME, attr, method, restrict } from './types';

const ATTRIBUTE_ACCESS_ITEM = t.struct({
  attribute_id: t.int8(),
  access_mode: t.enum(),
  access_selectors: t.oneOf('null or array of integer', t.nul(), t.array(t.int8())),
});

/** Method access_mode is a boolean in version 0, an enum from version 1. */
const METHOD_ACCESS_ITEM = t.struct({ method_id: t.int8(), access_mode: t.oneOf('enum (v1+) or boolean (v0)', t.enum(), t.boolean()) });

export const OBJECT_LIST_ELEMENT: ValueType = t.struct({
  class_id: t.uint16(),
  version: t.uint8(),
  logical_name: t.obis(),
  access_rights: t.struct({ attribute_access: t.array(ATTRIBUTE_ACCESS_ITEM), method_access: t.array(METHOD_ACCESS_ITEM) }),
});

/** application_context_name / authentication_mechanism_name: the 7-arc structure, or the OID as octets. */
const CONTEXT_NAME = t.oneOf(
  'structure of 7 OID arcs or octet-string',
  t.struct({
    joint_iso_ctt: t.uint8(),
    country: t.uint8(),
    country_name: t.uint16(),
    identified_organization: t.uint8(),
    dlms_ua: t.uint8(),
    arc6: t.uint8(),
    id: t.uint8(),
  }),
  t.octets(),
);

const USER = t.struct({ user_id: t.uint8(), user_name: t.visible() });

export const ASSOCIATION_STATUS_NAMES = { 0: 'non-associated', 1: 'association-pending', 2: 'associated' };

export const ASSOCIATION_LN: ClassDescriptor = {
  id: 15,
  name: 'Association LN',
  key: 'association-ln',
  version: 2,
  attributes: [
    LOGICAL_NAME,
    attr(2, 'object_list', t.array(OBJECT_LIST_ELEMENT), true),
    attr(3, 'associated_partners_id', t.struct({ client_sap: t.int8(), server_sap: t.uint16() }), true),
    attr(4, 'application_context_name', CONTEXT_NAME, true),
    attr(
      5,
      'xdlms_context_info',
      t.struct({
        conformance: t.bitString(),
        max_receive_pdu_size: t.uint16(),
        max_send_pdu_size: t.uint16(),
        dlms_version_number: t.uint8(),
        quality_of_service: t.int8(),
        cyphering_info: t.octets(),
      }),
      true,
    ),
    attr(6, 'authentication_mechanism_name', CONTEXT_NAME, true),
    attr(7, 'secret', t.octets(), true, A.write),
    attr(8, 'association_status', t.enum(ASSOCIATION_STATUS_NAMES), false),
    attr(9, 'security_setup_reference', t.obis(), true),
    attr(10, 'user_list', t.array(USER), true),
    attr(11, 'current_user', USER, false),
  ],
  methods: [
    method(1, 'reply_to_hls_authentication', t.octets()),
    method(2, 'change_hls_secret', t.octets()),
    method(3, 'add_object', OBJECT_LIST_ELEMENT),
    method(4, 'remove_object', OBJECT_LIST_ELEMENT),
    method(5, 'add_user', USER),
    method(6, 'remove_user', USER),
  ],
};

export const ASSOCIATION_LN_V1 = restrict(ASSOCIATION_LN, 1, 9, 4);
export const ASSOCIATION_LN_V0 = restrict(ASSOCIATION_LN, 0, 8, 4);

export const SAP_ASSIGNMENT: ClassDescriptor = {
  id: 17,
  name: 'SAP assignment',
  key: 'sap-assignment',
  version: 0,
  attributes: [LOGICAL_NAME, attr(2, 'sap_assignment_list', t.array(t.struct({ sap: t.uint16(), logical_device_name: t.octets() })), true)],
  methods: [method(1, 'connect_logical_device', t.struct({ sap: t.uint16(), logical_device_name: t.octets() }))],
};
