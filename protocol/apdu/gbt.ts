import type { ByteReader, ByteWriter } from '../common/bytes';
import { checkUint, expectApduTag } from './fields';

export const GENERAL_BLOCK_TRANSFER = 0xe0;

/**
 * General-Block-Transfer (E0): block-control (bit 7 last block, bit 6 streaming, bits 0-5
 * window), block-number u16, block-number-ack u16, block-data octets.
 */
export interface GeneralBlockTransfer {
  readonly type: 'general-block-transfer';
  readonly lastBlock: boolean;
  readonly streaming: boolean;
  readonly window: number;
  readonly blockNumber: number;
  readonly blockNumberAck: number;
  readonly data: Uint8Array;
}

export function readGeneralBlockTransfer(r: ByteReader): GeneralBlockTransfer {
  expectApduTag(r, GENERAL_BLOCK_TRANSFER, 'general-block-transfer');
  const control = r.u8('block-control');
  const blockNumber = r.u16('block number');
  const blockNumberAck = r.u16('block number ack');
  return {
    type: 'general-block-transfer',
    lastBlock: (control & 0x80) !== 0,
    streaming: (control & 0x40) !== 0,
    window: control & 0x3f,
    blockNumber,
    blockNumberAck,
    data: r.lengthPrefixed('block-data'),
  };
}

export function writeGeneralBlockTransfer(w: ByteWriter, a: GeneralBlockTransfer): void {
  w.u8(GENERAL_BLOCK_TRANSFER);
  w.u8((a.lastBlock ? 0x80 : 0) | (a.streaming ? 0x40 : 0) | checkUint(a.window, 63, 'GBT window'));
  w.u16(checkUint(a.blockNumber, 0xffff, 'GBT block number'));
  w.u16(checkUint(a.blockNumberAck, 0xffff, 'GBT block number ack'));
  w.lengthPrefixed(a.data);
}
