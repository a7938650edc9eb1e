import { decodeApdu, encodeApdu, type Apdu } from '../protocol/apdu';
import { invokeIdAndPriority } from '../protocol/apdu/invoke';
import { obisToBytes } from '../protocol/cosem/obis';
import { cipherApdu, decipherApdu, type SecurityPolicy } from '../protocol/security';
import type { Bench, Figure } from './harness';
import { opsPerSecond } from './harness';

/**
 * Cost of security suite 0 per GET request/response pair: a register GET (3:1.0.1.8.0.255:2)
 * and its uint32 answer, each encoded, (ciphered, deciphered,) decoded — what the client and
 * the meter do between them for one read. Counters come from a plain integer here (the
 * client's store reserves in chunks, so its cost is amortised).
 */

const CLIENT_TITLE = new TextEncoder().encode('Gurux123');
const METER_TITLE = new TextEncoder().encode('ABCDEFGH');
const BLOCK_KEY = Uint8Array.from({ length: 16 }, (_, i) => i);
const AUTH_KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xd0 + i);

const invoke = invokeIdAndPriority(1);
const request: Apdu = {
  type: 'get-request',
  kind: 'normal',
  invoke,
  attribute: { classId: 3, instanceId: obisToBytes([1, 0, 1, 8, 0, 255]), attributeId: 2 },
};
const response: Apdu = { type: 'get-response', kind: 'normal', invoke, result: { kind: 'data', data: { type: 'uint32', value: 1_234_567 } } };

function plainPair(): void {
  decodeApdu(encodeApdu(request));
  decodeApdu(encodeApdu(response));
}

function cipheredPair(policy: SecurityPolicy): () => void {
  let counter = 1;
  const keys = { blockKey: BLOCK_KEY, authKey: AUTH_KEY };
  return () => {
    const req = cipherApdu(encodeApdu(request), { policy, systemTitle: CLIENT_TITLE, invocationCounter: counter++, ...keys });
    decodeApdu(decipherApdu(req, { ...keys, peerSystemTitle: CLIENT_TITLE }).apdu);
    const res = cipherApdu(encodeApdu(response), { policy, systemTitle: METER_TITLE, invocationCounter: counter++, ...keys });
    decodeApdu(decipherApdu(res, { ...keys, peerSystemTitle: METER_TITLE }).apdu);
  };
}

const micros = (fn: () => void): number => 1e6 / opsPerSecond(fn, 1000).opsPerSec;

export const securityBench: Bench = {
  name: 'security',
  run(): Figure[] {
    const plain = micros(plainPair);
    const authEnc = micros(cipheredPair('auth-enc'));
    const auth = micros(cipheredPair('auth'));
    return [
      { name: 'GET pair plain (encode+decode request and response)', value: plain, unit: 'µs/pair' },
      { name: 'GET pair auth-enc (+ cipher+decipher, AES-GCM-128)', value: authEnc, unit: 'µs/pair', goal: '< 100 µs: negligible next to a 9600 baud frame (~30 ms)' },
      { name: 'GET pair auth only (GMAC)', value: auth, unit: 'µs/pair' },
      { name: 'ciphering overhead auth-enc vs plain', value: authEnc - plain, unit: 'µs/pair' },
    ];
  },
};
