import type { ByteReader, ByteWriter } from '../common/bytes';
import { checkUint, readBoolean } from './fields';

/** DataBlock-SA (SET and ACTION blocks): last-block, block-number u32, raw-data octets. */
export interface DataBlock {
  readonly lastBlock: boolean;
  readonly blockNumber: number;
  readonly raw: Uint8Array;
}

export function readDataBlock(r: ByteReader): DataBlock {
  const lastBlock = readBoolean(r, 'last-block');
  const blockNumber = r.u32('block number');
  return { lastBlock, blockNumber, raw: r.lengthPrefixed('raw-data') };
}

export function writeDataBlock(w: ByteWriter, b: DataBlock): void {
  w.u8(b.lastBlock ? 1 : 0);
  writeBlockNumber(w, b.blockNumber);
  w.lengthPrefixed(b.raw);
}

export function readBlockNumber(r: ByteReader): number {
  return r.u32('block number');
}

export function writeBlockNumber(w: ByteWriter, n: number): void {
  w.u32(checkUint(n, 0xffffffff, 'block number'));
}
