/**
 * Layering, one way only (STYLE.md): a lower layer never imports a higher one. Checked on
 * the import specifiers of every source file, so a wrong import fails CI, not a review.
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

describe('layering', () => {
  it('protocol/ imports nothing above it', () => {
    expect(offenders('protocol', ['daemon', 'sim', 'storage', 'config', 'bench', 'test'])).toEqual([]);
  });
  it('daemon/ never imports the simulator', () => {
    expect(offenders('daemon', ['sim', 'test', 'bench'])).toEqual([]);
  });
  it('protocol tests do not lean on the simulator', () => {
    expect(offenders('test/protocol', ['sim', 'daemon'])).toEqual([]);
  });
  it('the simulator stands apart from the daemon (only its CLI entry points share the dcu CLI helpers)', () => {
    const simCore = offenders('sim', ['daemon', 'test', 'bench']).filter((line) => !line.startsWith('sim/cli/'));
    expect(simCore).toEqual([]);
  });
});
