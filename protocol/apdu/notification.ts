import { ByteReader, type ByteWriter } from '../common/bytes';
import { readData, readDateTime, writeData, writeDateTime } from '../axdr/codec';
import type { CosemDateTime, Data } from '../axdr/data';
import { type AttributeDescriptor, readAttributeDescriptor, writeAttributeDescriptor } from './descriptors';
import { badValue, expectApduTag, readOptional, writeOptional } from './fields';
import { type LongInvokeIdAndPriority, readLongInvoke, writeLongInvoke } from './invoke';

export const DATA_NOTIFICATION = 0x0f;
export const EVENT_NOTIFICATION = 0xc2;

const DATE_TIME_LENGTH = 12;

/** Data-Notification (0F): pushed data. date-time is an OCTET STRING, empty when absent. */
export interface DataNotification {
  readonly type: 'data-notification';
  readonly invoke: LongInvokeIdAndPriority;
  readonly dateTime?: CosemDateTime;
  readonly body: Data;
}

/** Event-Notification-Request (C2): optional time, the attribute that changed, its value. */
export interface EventNotification {
  readonly type: 'event-notification';
  readonly time?: CosemDateTime;
  readonly attribute: AttributeDescriptor;
  readonly value: Data;
}

/** An OCTET STRING that holds a 12-byte date-time. */
function readDateTimeOctets(r: ByteReader, what: string, allowEmpty: boolean): CosemDateTime | undefined {
  const at = r.baseOffset + r.offset;
  const octets = r.lengthPrefixed(what);
  if (octets.length === 0 && allowEmpty) return undefined;
  if (octets.length !== DATE_TIME_LENGTH) throw badValue(at, `${what} of ${octets.length} bytes (expected ${DATE_TIME_LENGTH})`);
  return readDateTime(new ByteReader(octets, 0, at + 1));
}

function writeDateTimeOctets(w: ByteWriter, dt: CosemDateTime): void {
  w.u8(DATE_TIME_LENGTH);
  writeDateTime(w, dt);
}

export function readDataNotification(r: ByteReader): DataNotification {
  expectApduTag(r, DATA_NOTIFICATION, 'data-notification');
  const invoke = readLongInvoke(r);
  const dateTime = readDateTimeOctets(r, 'date-time', true);
  const body = readData(r);
  return dateTime === undefined ? { type: 'data-notification', invoke, body } : { type: 'data-notification', invoke, dateTime, body };
}

export function writeDataNotification(w: ByteWriter, a: DataNotification): void {
  w.u8(DATA_NOTIFICATION);
  writeLongInvoke(w, a.invoke);
  if (a.dateTime === undefined) w.u8(0);
  else writeDateTimeOctets(w, a.dateTime);
  writeData(w, a.body);
}

export function readEventNotification(r: ByteReader): EventNotification {
  expectApduTag(r, EVENT_NOTIFICATION, 'event-notification');
  const time = readOptional(r, 'time', (rr) => readDateTimeOctets(rr, 'time', false));
  const attribute = readAttributeDescriptor(r);
  const value = readData(r);
  return time === undefined ? { type: 'event-notification', attribute, value } : { type: 'event-notification', time, attribute, value };
}

export function writeEventNotification(w: ByteWriter, a: EventNotification): void {
  w.u8(EVENT_NOTIFICATION);
  writeOptional(w, a.time, writeDateTimeOctets);
  writeAttributeDescriptor(w, a.attribute);
  writeData(w, a.value);
}
