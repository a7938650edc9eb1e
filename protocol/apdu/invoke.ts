import type { ByteReader, ByteWriter } from '../common/bytes';
import { checkUint } from './fields';

/**
 * Invoke-Id-And-Priority (1 byte): bits 0-3 invoke id, bit 6 service class (1 = confirmed),
 * bit 7 priority (1 = high). Bits 4-5 are reserved: ignored on decode, sent as 0.
 */
export interface InvokeIdAndPriority {
  readonly invokeId: number;
  readonly confirmed: boolean;
  readonly highPriority: boolean;
}

export function invokeIdAndPriority(invokeId: number, confirmed = true, highPriority = true): InvokeIdAndPriority {
  return { invokeId, confirmed, highPriority };
}

export function invokeToByte(v: InvokeIdAndPriority): number {
  return (v.highPriority ? 0x80 : 0) | (v.confirmed ? 0x40 : 0) | checkUint(v.invokeId, 15, 'invoke id');
}

export function invokeFromByte(b: number): InvokeIdAndPriority {
  return { invokeId: b & 0x0f, confirmed: (b & 0x40) !== 0, highPriority: (b & 0x80) !== 0 };
}

export function readInvoke(r: ByteReader): InvokeIdAndPriority {
  return invokeFromByte(r.u8('invoke-id-and-priority'));
}

export function writeInvoke(w: ByteWriter, v: InvokeIdAndPriority): void {
  w.u8(invokeToByte(v));
}

/**
 * Long-Invoke-Id-And-Priority (4 bytes, data-notification): bits 0-23 invoke id, bits 24-27
 * reserved (ignored, sent as 0), 28 self-descriptive, 29 processing option (1 = break on
 * error), 30 service class (1 = confirmed), 31 priority (1 = high).
 */
export interface LongInvokeIdAndPriority {
  readonly invokeId: number;
  readonly selfDescriptive: boolean;
  readonly breakOnError: boolean;
  readonly confirmed: boolean;
  readonly highPriority: boolean;
}

export function readLongInvoke(r: ByteReader): LongInvokeIdAndPriority {
  const v = r.u32('long-invoke-id-and-priority');
  return {
    invokeId: v & 0xffffff,
    selfDescriptive: (v & 0x10000000) !== 0,
    breakOnError: (v & 0x20000000) !== 0,
    confirmed: (v & 0x40000000) !== 0,
    highPriority: (v & 0x80000000) !== 0,
  };
}

export function writeLongInvoke(w: ByteWriter, v: LongInvokeIdAndPriority): void {
  const flags =
    (v.highPriority ? 0x80000000 : 0) + (v.confirmed ? 0x40000000 : 0) + (v.breakOnError ? 0x20000000 : 0) + (v.selfDescriptive ? 0x10000000 : 0);
  w.u32(flags + checkUint(v.invokeId, 0xffffff, 'long invoke id'));
}
