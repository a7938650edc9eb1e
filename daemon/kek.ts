/**
 * Where the key-encryption key (KEK) that seals the meters' secrets in the store comes from,
 * first found wins:
 *   1. the systemd credential `dcu-kek` (`LoadCredentialEncrypted=dcu-kek:…` in the unit,
 *      read from $CREDENTIALS_DIRECTORY): encrypted on disk by systemd (TPM2 or host key);
 *      the unit's fallback value `none` (SetCredential=) means there is none;
 *   2. the file `secrets.kekFile` of the configuration;
 *   3. `<stateDir>/dcu-kek`, generated (0600) on the first start when neither is given: it
 *      protects a store copied alone (a backup, a support bundle), not a copy of the whole
 *      state directory or a stolen box — dcud says so in a warning at every start.
 * A KEK is 64 hex digits (whitespace around them ignored) or exactly 32 bytes.
 *
 * Interrupted rotations of a generated KEK (`dcu keys rotate-kek`) leave `dcu-kek.new`:
 * openSecrets() keeps whichever of the two the store is sealed with.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema';
import { DcuError, ErrorCode, isDcuError } from '../protocol/common/errors';
import type { Db } from '../storage/db';
import { MeterRepository } from '../storage/meters';
import { KEK_BYTES, SecretBox } from '../storage/secret-box';

export const KEK_CREDENTIAL = 'dcu-kek';
export const GENERATED_KEK_FILE = 'dcu-kek';
export const PENDING_SUFFIX = '.new';
const MAX_KEK_FILE_BYTES = 4096;

export type KekKind = 'credential' | 'file' | 'generated';

export interface KekSource {
  readonly kind: KekKind;
  readonly path: string;
}

function kekError(path: string, problem: string, cause?: unknown): DcuError {
  return new DcuError(ErrorCode.Config, `the key-encryption key ${path} ${problem}`, { cause, context: { path } });
}

/** Reads and checks a KEK file: a regular file, 64 hex digits or 32 raw bytes. */
export function readKek(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw kekError(path, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(e)}): it must be readable by the dcud user only`, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw kekError(path, 'is not a regular file');
    if (st.size > MAX_KEK_FILE_BYTES) throw kekError(path, `is ${st.size} bytes: a KEK is 64 hex digits or 32 bytes`);
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    const bytes = buf.subarray(0, n);
    const text = bytes.toString('latin1').trim();
    if (/^[0-9A-Fa-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
    if (bytes.length === KEK_BYTES) return Buffer.from(bytes);
    throw kekError(path, `holds ${bytes.length} bytes that are neither 64 hex digits nor ${KEK_BYTES} raw bytes (make one with: openssl rand -hex 32)`);
  } finally {
    closeSync(fd);
  }
}

/** Writes a new random KEK (hex) to a file that must not exist, mode 0600, synced with its directory. */
export function writeNewKek(path: string): Buffer {
  const key = randomBytes(KEK_BYTES);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (e) {
    throw kekError(path, `cannot be created (${(e as { code?: string }).code ?? String(e)})`, e);
  }
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncDir(dirname(path));
  return key;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function exists(path: string): boolean {
  try {
    closeSync(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return false;
    return true; // there but unreadable: readKek names the problem
  }
}

/**
 * The unit's `SetCredential=dcu-kek:none` is systemd's fallback when LoadCredentialEncrypted=
 * finds no file (a box without an encrypted credential still starts): no credential, then.
 */
export const NO_CREDENTIAL = 'none';

function isNoCredential(path: string): boolean {
  try {
    return readFileSync(path, 'latin1').trim() === NO_CREDENTIAL;
  } catch {
    return false; // unreadable: readKek names the problem
  }
}

/** The KEK this configuration and environment name (without reading it). */
export function kekSource(config: Pick<Config, 'stateDir' | 'secrets'>, env: NodeJS.ProcessEnv): KekSource {
  const creds = env.CREDENTIALS_DIRECTORY;
  if (creds !== undefined && creds !== '' && exists(join(creds, KEK_CREDENTIAL)) && !isNoCredential(join(creds, KEK_CREDENTIAL))) return { kind: 'credential', path: join(creds, KEK_CREDENTIAL) };
  const file = config.secrets.kekFile;
  if (file !== undefined) return { kind: 'file', path: file };
  return { kind: 'generated', path: join(config.stateDir, GENERATED_KEK_FILE) };
}

export interface OpenedSecrets {
  readonly box: SecretBox;
  readonly source: KekSource;
  /** A generated KEK was made now (first start). */
  readonly created: boolean;
  /** Meters whose secrets were in clear and are sealed now. */
  readonly sealed: number;
  /** Secrets in clear could not be sealed now (the store or its filesystem is full): the next start with room seals them. */
  readonly deferred?: string;
}

/**
 * The SecretBox of this configuration's KEK, checked against the store: rows in clear are
 * sealed, a row sealed with another KEK is a DcuError(SealedSecrets) (nothing changed). A
 * generated KEK is created when missing; `create: false` (the CLI) refuses instead.
 */
export function openSecrets(db: Db, config: Pick<Config, 'stateDir' | 'secrets'>, env: NodeJS.ProcessEnv, now: number, create = true): OpenedSecrets {
  const source = kekSource(config, env);
  let created = false;
  let key: Buffer;
  if (source.kind === 'generated' && !exists(source.path)) {
    const pending = `${source.path}${PENDING_SUFFIX}`;
    if (exists(pending)) {
      renameSync(pending, source.path); // a first-time rotation that was interrupted after its commit: nothing else could have sealed
      syncDir(dirname(source.path));
      key = readKek(source.path);
    } else if (create) {
      key = writeNewKek(source.path);
      created = true;
    } else {
      throw kekError(
        source.path,
        'does not exist, and there is no systemd credential dcu-kek ($CREDENTIALS_DIRECTORY) nor secrets.kekFile: give the KEK with --kek-file (a systemd credential: systemd-creds decrypt --name=dcu-kek /etc/credstore.encrypted/dcu-kek FILE)',
      );
    }
  } else key = readKek(source.path);
  let box = new SecretBox(key);
  let sealed: number;
  try {
    sealed = new MeterRepository(db, box).sealAtRest(now).sealed;
  } catch (e) {
    if (isDcuError(e) && e.code === ErrorCode.StorageFull) {
      // a full disk must not keep dcud from starting degraded (status, API, drain)
      if (source.kind === 'generated') dropPending(source.path);
      return { box, source, created, sealed: 0, deferred: e.message };
    }
    const adopted = source.kind === 'generated' ? adoptPending(db, source.path, e, now) : undefined;
    if (adopted === undefined) throw e;
    ({ box, sealed } = adopted);
  }
  if (source.kind === 'generated') dropPending(source.path);
  return { box, source, created, sealed };
}

/** A rotation committed its transaction but did not rename `dcu-kek.new` into place: finish it. */
function adoptPending(db: Db, path: string, e: unknown, now: number): { box: SecretBox; sealed: number } | undefined {
  const pending = `${path}${PENDING_SUFFIX}`;
  if (!isDcuError(e) || e.code !== ErrorCode.SealedSecrets || !exists(pending)) return undefined;
  const box = new SecretBox(readKek(pending));
  const { sealed } = new MeterRepository(db, box).sealAtRest(now); // throws the same kind of error when it is not that one either
  renameSync(pending, path);
  syncDir(dirname(path));
  return { box, sealed };
}

function dropPending(path: string): void {
  try {
    unlinkSync(`${path}${PENDING_SUFFIX}`); // a rotation that never committed
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
  }
}
