/**
 * CRC-16/X-25 as used for the HDLC header (HCS) and frame (FCS) check sequences
 * (IEC 62056-46, ISO/IEC 13239): reflected polynomial 0x8408, init 0xFFFF, final xor 0xFFFF,
 * transmitted low byte first. CRC("123456789") = 0x906E.
 */

const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-16/X-25 over bytes[start, end). */
export function crc16x25(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc = (crc >>> 8) ^ (TABLE[(crc ^ (bytes[i] ?? 0)) & 0xff] ?? 0);
  }
  return (crc ^ 0xffff) & 0xffff;
}

/** Writes the CRC of bytes[start, end) at bytes[end], bytes[end + 1] (low byte first). */
export function writeCrc(bytes: Uint8Array, start: number, end: number): void {
  const crc = crc16x25(bytes, start, end);
  bytes[end] = crc & 0xff;
  bytes[end + 1] = crc >>> 8;
}

/** True when the two bytes at bytes[end] hold the CRC of bytes[start, end). */
export function checkCrc(bytes: Uint8Array, start: number, end: number): boolean {
  const crc = crc16x25(bytes, start, end);
  return bytes[end] === (crc & 0xff) && bytes[end + 1] === crc >>> 8;
}
