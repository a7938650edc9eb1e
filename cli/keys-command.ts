/**
 * `dcu keys rotate-kek`: seals every meter's secrets in the store again under a new
 * key-encryption key, in one transaction. It works on the store of this box with dcud
 * stopped (it takes dcud's lock, so it refuses while dcud runs): the KEK never crosses the
 * API, and no running daemon holds the old one while the store already needs the new one.
 * The current KEK is found the way dcud finds it (systemd credential dcu-kek, secrets.kekFile,
 * <stateDir>/dcu-kek), or given with --kek-file. A generated KEK is replaced by a new one in
 * place (dcu-kek.new, then renamed: an interruption is finished by dcud's next start); a KEK
 * of your own (credential or file) needs the new one with --new-kek-file, which you install
 * where dcud finds it before starting it again.
 */
import type { Command } from 'commander';
import { chownSync, existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { DcuError, ErrorCode } from '../protocol/common/errors';
import { openStore } from '../storage/db';
import { MeterRepository } from '../storage/meters';
import { SecretBox } from '../storage/secret-box';
import { lockStateDir, STORE_FILE } from '../daemon/dcud';
import { openSecrets, PENDING_SUFFIX, readKek, writeNewKek, type OpenedSecrets } from '../daemon/kek';
import { run, stateDirOf, type StoreIo } from './store-commands';

interface RotateOptions {
  config?: string;
  state?: string;
  kekFile?: string;
  newKekFile?: string;
  json?: boolean;
}

export interface Rotation {
  readonly meters: number;
  readonly from: string;
  readonly to: string;
  /** Where the new KEK is now (generated), or where it must go (credential, file). */
  readonly kek: string;
  readonly install: string | undefined;
}

function settings(opts: RotateOptions, env: NodeJS.ProcessEnv): { config: Pick<Config, 'stateDir' | 'secrets'>; env: NodeJS.ProcessEnv } {
  const loaded = opts.config === undefined ? undefined : loadConfig(opts.config, env).config;
  const stateDir = opts.state ?? loaded?.stateDir ?? stateDirOf({}, env);
  if (opts.kekFile !== undefined) return { config: { stateDir, secrets: { kekFile: opts.kekFile } }, env: { ...env, CREDENTIALS_DIRECTORY: '' } };
  return { config: { stateDir, secrets: loaded?.secrets ?? {} }, env };
}

/** The rotation itself (also called by tests): lock, open, re-seal in one transaction, put a generated KEK in place. */
export function rotateKek(opts: RotateOptions, env: NodeJS.ProcessEnv, now: number): Rotation {
  const { config, env: kekEnv } = settings(opts, env);
  const store = join(config.stateDir, STORE_FILE);
  if (!existsSync(store)) throw new DcuError(ErrorCode.Storage, `no concentrator store in ${config.stateDir} (${STORE_FILE}): give --state DIR or --config FILE of the daemon`);
  const lock = lockStateDir(config.stateDir, now);
  try {
    const db = openStore(store);
    try {
      const current: OpenedSecrets = openSecrets(db, config, kekEnv, now, false);
      const generated = current.source.kind === 'generated' && opts.newKekFile === undefined;
      if (!generated && opts.newKekFile === undefined) {
        throw new DcuError(
          ErrorCode.Usage,
          `the KEK comes from ${current.source.kind === 'credential' ? 'the systemd credential' : 'the file'} ${current.source.path}: give the new one with --new-kek-file FILE (make it with: openssl rand -hex 32 > FILE), then install it where dcud finds it`,
        );
      }
      const pending = `${current.source.path}${PENDING_SUFFIX}`;
      const next = new SecretBox(generated ? writeNewKek(pending) : readKek(opts.newKekFile as string));
      if (generated && process.getuid?.() === 0) {
        const owner = statSync(store); // run as root on dcud's store: the new KEK must stay readable by dcud's user
        chownSync(pending, owner.uid, owner.gid);
      }
      if (next.id === current.box.id) throw new DcuError(ErrorCode.Usage, `the new KEK is the current one (${next.id}): give another`);
      const meters = new MeterRepository(db, current.box).resealWith(next, now);
      if (generated) renameSync(pending, current.source.path);
      const install = generated
        ? undefined
        : current.source.kind === 'credential'
          ? `systemd-creds encrypt --name=dcu-kek ${opts.newKekFile as string} /etc/credstore.encrypted/dcu-kek (the file LoadCredentialEncrypted= names), then delete ${opts.newKekFile as string}`
          : `replace ${current.source.path} with ${opts.newKekFile as string} (or point secrets.kekFile at it)`;
      return { meters, from: current.box.id, to: next.id, kek: generated ? current.source.path : (opts.newKekFile as string), install };
    } finally {
      db.close();
    }
  } finally {
    lock.close();
  }
}

export function registerKeys(program: Command, onExit: (code: number) => void, io: StoreIo): void {
  const keys = program.command('keys').description('the key-encryption key that seals meter passwords and keys in the store (on the box)');
  keys
    .command('rotate-kek')
    .description('seal every meter secret in the store again under a new key-encryption key (dcud stopped; one transaction)')
    .option('--config <file>', "the daemon's configuration (its stateDir and secrets.kekFile)")
    .option('--state <dir>', 'the daemon state directory (default: the configuration\'s, $DCU_STATE_DIR or /var/lib/dcu)')
    .option('--kek-file <file>', 'the current KEK (default: as dcud finds it: $CREDENTIALS_DIRECTORY/dcu-kek, secrets.kekFile, <stateDir>/dcu-kek)')
    .option('--new-kek-file <file>', 'the new KEK, 64 hex digits (default with a generated KEK: a new random one in its place)')
    .option('--json', 'print one JSON document')
    .action((opts: RotateOptions) =>
      run(io, onExit, () => {
        const r = rotateKek(opts, io.env, Date.now());
        if (opts.json === true) io.out(JSON.stringify(r));
        else {
          io.out(`re-sealed the secrets of ${r.meters} meter(s): KEK ${r.from} → ${r.to}`);
          io.out(r.install === undefined ? `the new KEK is ${r.kek}; the old one no longer opens the store` : `now ${r.install}; dcud refuses to start with the old KEK`);
        }
      }),
    );
}
