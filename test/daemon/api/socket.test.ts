/**
 * The daemon's local socket (dcud.sock): a request line nested 10,000 levels deep is one typed
 * usage error naming the depth limit, and the connection keeps serving.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalSocket } from '../../../daemon/api/socket';
import { nullLogger } from '../../../protocol/common/log';

describe('local socket', () => {
  it('answers a request nested 10,000 levels deep with a usage error that states the limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcu-sock-'));
    const path = join(dir, 'dcud.sock');
    const submitted: unknown[] = [];
    const handlers = { submit: (r: unknown) => (submitted.push(r), { job: { id: 'j' }, meters: [], created: true }), cancel: () => ({ found: false, state: undefined }), on: () => () => undefined, jobs: { get: () => undefined, counts: () => ({ EXE: 0, WARN: 0, FAIL: 0, cancelled: 0 }) } };
    const server = await startLocalSocket(path, handlers as never, nullLogger);
    try {
      const lines = await new Promise<string[]>((resolve, reject) => {
        const got: string[] = [];
        let buffer = '';
        const s = connect(path, () => {
          s.write(`{"id":"1","cmd":"plan","meters":${'['.repeat(10_000)}${']'.repeat(10_000)}}\n`);
          s.write('{"id":"2","cmd":"nope"}\n');
        });
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          buffer += d;
          const parts = buffer.split('\n');
          buffer = parts.pop() ?? '';
          got.push(...parts);
          if (got.length === 2) {
            s.end();
            resolve(got);
          }
        });
        s.on('error', reject);
      });
      const first = JSON.parse(lines[0] ?? '{}') as { type: string; error: { code: number; message: string } };
      expect(first).toMatchObject({ type: 'error', error: { code: 800 } });
      expect(first.error.message).toMatch(/nested deeper than 32 levels/);
      expect(JSON.parse(lines[1] ?? '{}')).toMatchObject({ id: '2', type: 'error', error: { code: 800 } }); // still serving
      expect(submitted).toEqual([]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
