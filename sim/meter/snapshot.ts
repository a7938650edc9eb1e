/**
 * The JSON form of a meter's state (saved by the simulator between runs): what a client
 * changed (clock, time zone, firmware, breaker, alarms), the event logs and an image
 * transfer in progress (received-block bitmap and bytes, base64). Measurements are not
 * saved: they are functions of (serial, time).
 */
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import type { ClockBase } from './meter-clock';
import { type DisconnectState, isControlState } from './disconnect';
import type { LoggedEvent } from './events';
import { IMAGE_STATUS_CODE, type ImageStatus, type ImageTransferState } from './image-transfer';

export const SNAPSHOT_FORMAT = 'dcu-sim-meter/1';

export interface ImageSnapshot {
  readonly status: ImageStatus;
  readonly enabled: boolean;
  /** base64 */
  readonly identifier: string;
  readonly size: number;
  readonly blockSize: number;
  /** base64 bitmap of received blocks. */
  readonly received: string;
  /** base64 image bytes (empty when no transfer). */
  readonly image: string;
  readonly badBlocks: readonly number[];
  readonly dueAt?: number;
  /** base64 SHA-256 once verified. */
  readonly signature?: string;
}

export interface SimMeterSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly serial: string;
  readonly clock: ClockBase;
  readonly deviation: number;
  readonly firmwareId: string;
  readonly disconnect: DisconnectState;
  readonly alarm: number;
  readonly events: { readonly standard: readonly LoggedEvent[]; readonly powerFailure: readonly LoggedEvent[] };
  readonly image: ImageSnapshot;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'base64'));

export function imageToSnapshot(s: ImageTransferState): ImageSnapshot {
  const base: ImageSnapshot = {
    status: s.status,
    enabled: s.enabled,
    identifier: b64(s.identifier),
    size: s.size,
    blockSize: s.blockSize,
    received: b64(s.received),
    image: b64(s.image),
    badBlocks: [...s.badBlocks],
  };
  return {
    ...base,
    ...(s.dueAt === undefined ? {} : { dueAt: s.dueAt }),
    ...(s.signature === undefined ? {} : { signature: b64(s.signature) }),
  };
}

export function imageFromSnapshot(s: ImageSnapshot): ImageTransferState {
  const base: ImageTransferState = {
    status: s.status,
    enabled: s.enabled,
    identifier: unb64(s.identifier),
    size: s.size,
    blockSize: s.blockSize,
    received: unb64(s.received),
    image: unb64(s.image),
    badBlocks: [...s.badBlocks],
  };
  const image = base.image.length === s.size ? base.image : new Uint8Array(s.size);
  if (image !== base.image) image.set(base.image.subarray(0, s.size));
  return {
    ...base,
    image,
    ...(s.dueAt === undefined ? {} : { dueAt: s.dueAt }),
    ...(s.signature === undefined ? {} : { signature: unb64(s.signature) }),
  };
}

// ---------------------------------------------------------------- parse (restore)

type Obj = Readonly<Record<string, unknown>>;

function bad(path: string, expected: string): DcuError {
  return new DcuError(ErrorCode.InvalidValue, `meter snapshot ${path}: expected ${expected}`, { context: { path } });
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(path, 'an object');
  return v as Obj;
}

function num(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${path}.${key}`, 'a number');
  return v;
}

function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw bad(`${path}.${key}`, 'a string');
  return v;
}

function bool(o: Obj, key: string, path: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw bad(`${path}.${key}`, 'a boolean');
  return v;
}

function events(v: unknown, path: string): LoggedEvent[] {
  if (!Array.isArray(v)) throw bad(path, 'an array of {at, code}');
  return v.map((e, i) => {
    const o = obj(e, `${path}[${i}]`);
    return { at: num(o, 'at', `${path}[${i}]`), code: num(o, 'code', `${path}[${i}]`) };
  });
}

function image(v: unknown): ImageSnapshot {
  const p = 'image';
  const o = obj(v, p);
  const status = str(o, 'status', p);
  if (!(status in IMAGE_STATUS_CODE)) throw bad(`${p}.status`, `one of ${Object.keys(IMAGE_STATUS_CODE).join(', ')}`);
  const badBlocks = o.badBlocks;
  if (!Array.isArray(badBlocks) || !badBlocks.every((n) => typeof n === 'number')) throw bad(`${p}.badBlocks`, 'an array of numbers');
  const base: ImageSnapshot = {
    status: status as ImageStatus,
    enabled: bool(o, 'enabled', p),
    identifier: str(o, 'identifier', p),
    size: num(o, 'size', p),
    blockSize: num(o, 'blockSize', p),
    received: str(o, 'received', p),
    image: str(o, 'image', p),
    badBlocks,
  };
  if (base.blockSize < 1 || base.size < 0) throw bad(`${p}.size`, 'a non-negative size and a positive block size');
  return {
    ...base,
    ...(o.dueAt === undefined ? {} : { dueAt: num(o, 'dueAt', p) }),
    ...(o.signature === undefined ? {} : { signature: str(o, 'signature', p) }),
  };
}

/** Checks what restore() was given; DcuError InvalidValue naming the first bad field. */
export function parseSnapshot(v: unknown): SimMeterSnapshot {
  const o = obj(v, '(root)');
  if (o.format !== SNAPSHOT_FORMAT) throw bad('format', `"${SNAPSHOT_FORMAT}"`);
  const clock = obj(o.clock, 'clock');
  const disconnect = obj(o.disconnect, 'disconnect');
  const controlState = num(disconnect, 'controlState', 'disconnect');
  if (!isControlState(controlState)) throw bad('disconnect.controlState', '0, 1 or 2');
  const ev = obj(o.events, 'events');
  return {
    format: SNAPSHOT_FORMAT,
    serial: str(o, 'serial', '(root)'),
    clock: { trueAt: num(clock, 'trueAt', 'clock'), meterAt: num(clock, 'meterAt', 'clock') },
    deviation: num(o, 'deviation', '(root)'),
    firmwareId: str(o, 'firmwareId', '(root)'),
    disconnect: { controlState, controlMode: num(disconnect, 'controlMode', 'disconnect') },
    alarm: num(o, 'alarm', '(root)'),
    events: { standard: events(ev.standard, 'events.standard'), powerFailure: events(ev.powerFailure, 'events.powerFailure') },
    image: image(o.image),
  };
}
