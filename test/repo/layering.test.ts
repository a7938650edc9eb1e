/**
 * Layering, one way only (STYLE.md): a lower layer never imports a higher one. Checked on
 * the import specifiers of every source file, so a wrong import fails CI, not a review.
 *
 *   protocol ← common ← config ← storage ← daemon ← cli
 *   sim → protocol, common (the simulator is a meter, not a part of the concentrator)
 *
 * common/ is what the CLI, the daemon and the simulator share above the protocol: tables and
 * value rendering, exit codes, instants, schema problem texts, directory creation, demo paths.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

function tsFiles(dir: string): string[] {
  const abs = join(ROOT, dir);
  return readdirSync(abs).flatMap((name) => {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) return tsFiles(relative(ROOT, p));
    return name.endsWith('.ts') ? [relative(ROOT, p)] : [];
  });
}

/** Top-level folders (or protocol sub-layers) that each file's relative imports reach. */
function importedTops(file: string): string[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = relative(ROOT, resolve(ROOT, dirname(file), m[1] ?? ''));
    out.push(target);
  }
  return out;
}

function offenders(from: string, forbidden: readonly string[]): string[] {
  return tsFiles(from).flatMap((f) =>
    importedTops(f)
      .filter((t) => forbidden.some((x) => t === x || t.startsWith(`${x}/`)))
      .map((t) => `${f} → ${t}`),
  );
}

const OUTSIDE = ['sim', 'bench', 'test'];

describe('layering', () => {
  it('protocol/ imports nothing above it', () => {
    expect(offenders('protocol', ['common', 'config', 'storage', 'daemon', 'cli', ...OUTSIDE])).toEqual([]);
  });
  it('common/ imports only the protocol', () => {
    expect(offenders('common', ['config', 'storage', 'daemon', 'cli', ...OUTSIDE])).toEqual([]);
  });
  it('config/ imports only the protocol and common/', () => {
    expect(offenders('config', ['storage', 'daemon', 'cli', ...OUTSIDE])).toEqual([]);
  });
  it('storage/ never imports the daemon or the CLI', () => {
    expect(offenders('storage', ['daemon', 'cli', ...OUTSIDE])).toEqual([]);
  });
  it('daemon/ never imports the CLI or the simulator', () => {
    expect(offenders('daemon', ['cli', ...OUTSIDE])).toEqual([]);
  });
  it('cli/ never imports the simulator', () => {
    expect(offenders('cli', OUTSIDE)).toEqual([]);
  });
  it('the simulator imports only the protocol and common/', () => {
    expect(offenders('sim', ['config', 'storage', 'daemon', 'cli', 'bench', 'test'])).toEqual([]);
  });
  it('protocol tests do not lean on the simulator', () => {
    expect(offenders('test/protocol', ['sim', 'daemon', 'cli'])).toEqual([]);
  });
});
