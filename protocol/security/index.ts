/** Security suite 0: security control, AES-GCM, ciphered APDUs, HLS, key wrap, counters, redaction. */
export * from './security-control';
export * from './gcm';
export * from './ciphered-apdu';
export * from './hls';
export * from './key-wrap';
export * from './counters';
export * from './redact';
