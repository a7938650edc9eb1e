/** Paths the demo (`npm start`, sim/) and `dcu demo` (cli/) both know. */
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Where the demo listens for `dcu demo` commands. */
export function demoSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DCU_DEMO_SOCKET ?? join(tmpdir(), `dcu-demo-${userInfo().uid}.sock`);
}
