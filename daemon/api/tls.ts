/**
 * The API's TLS identity: the configured certificate and key files, or a self-signed
 * certificate made on first start and kept in the state directory, so its SHA-256
 * fingerprint (what a technician pins with `dcu --fingerprint`) is the same after a restart.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readRegularFileOrThrow } from '../../config/regular-file';
import { join } from 'node:path';
import { DcuError, ErrorCode } from '../../protocol/common/errors';

export const CERT_FILE = 'api-cert.pem';
export const KEY_FILE = 'api-key.pem';

export interface TlsIdentity {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (as openssl prints it). */
  readonly fingerprint: string;
}

export const fingerprintOf = (certPem: string): string => new X509Certificate(certPem).fingerprint256;

function read(path: string, what: string): string {
  // a small regular file: a FIFO or a device named here is refused, never waited on
  return readRegularFileOrThrow(path, 1024 * 1024, 'PEM file', (problem) => new DcuError(ErrorCode.Config, `api.${what}: ${path} ${problem}; give a readable PEM file or leave api.cert/api.key out for a self-signed certificate`)).toString('utf8');
}

export async function tlsIdentity(stateDir: string, id: string, files: { cert?: string; key?: string }, now: number): Promise<TlsIdentity> {
  if ((files.cert === undefined) !== (files.key === undefined)) throw new DcuError(ErrorCode.Config, 'api.cert and api.key go together: give both, or neither for a self-signed certificate');
  let cert: string;
  let key: string;
  if (files.cert !== undefined && files.key !== undefined) {
    cert = read(files.cert, 'cert');
    key = read(files.key, 'key');
  } else {
    const certPath = join(stateDir, CERT_FILE);
    const keyPath = join(stateDir, KEY_FILE);
    if (existsSync(certPath) && existsSync(keyPath)) {
      cert = readFileSync(certPath, 'utf8');
      key = readFileSync(keyPath, 'utf8');
    } else {
      const notBefore = new Date(now - 86_400_000);
      const notAfter = new Date(now + 20 * 365 * 86_400_000);
      const { generate } = await import('selfsigned'); // loaded only the first time: every start pays for what it requires
      const pems = await generate([{ name: 'commonName', value: id }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate: notBefore, notAfterDate: notAfter });
      cert = pems.cert;
      key = pems.private;
      // key first: a cert without its key would be replaced on the next start
      writeFileSync(keyPath, key, { mode: 0o600 });
      writeFileSync(certPath, cert, { mode: 0o644 });
    }
  }
  try {
    return { cert, key, fingerprint: fingerprintOf(cert) };
  } catch (e) {
    throw new DcuError(ErrorCode.Config, `the API certificate is not a PEM X.509 certificate (${(e as Error).message}); check api.cert`, { cause: e });
  }
}
