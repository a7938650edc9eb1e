#!/usr/bin/env node
/**
 * `npm start`: the one-command demo (sim/cli/demo-parts/run.ts) — dcud reading simulated meters into
 * its store and sending to a HES over MQTT, with a HES console printing what arrives.
 *
 * Keys (at a terminal): `w` cuts / restores the WAN, `q` or Ctrl-C stops everything.
 * Piped stdin takes lines: `wan down`, `wan up`, `w`, `q`. DCU_DEMO_SECONDS=N stops after N s.
 * Sizes: DCU_DEMO_METERS (serial meters, 4), DCU_DEMO_TCP_METERS (2), DCU_DEMO_LINES (2),
 * DCU_DEMO_BAUD (38400).
 */
import { startDemo, type Demo } from './demo-parts/run';

/** Exit code 2 (usage) for a bad environment variable, as for a bad flag. */
class DemoUsageError extends Error {}

/** A whole number from the environment, naming the variable when it is not one. */
export function envInteger(name: string, fallback: number, min: number, max: number, env: NodeJS.ProcessEnv = process.env): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
    throw new DemoUsageError(`${name}=${text}: must be a whole number from ${min} to ${max} (default ${fallback})`);
  }
  return Number(text);
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

/** Keys at a terminal (raw mode: Ctrl-C arrives as a byte), lines from a pipe. */
function listen(demo: Demo, quit: () => void): () => void {
  const input = process.stdin;
  const command = (c: string): void => {
    const t = c.trim().toLowerCase();
    if (t === 'w') demo.setWan(!demo.wanUp);
    else if (t === 'wan down') demo.setWan(false);
    else if (t === 'wan up') demo.setWan(true);
    else if (t === 'q' || t === '\u0003' || t === 'quit') quit();
    else if (t !== '') process.stdout.write(`keys: w (WAN down/up), q or Ctrl-C (stop)${input.isTTY ? '' : '; lines: wan down, wan up, q'}\n`);
  };
  let buf = '';
  const onData = (d: Buffer): void => {
    if (input.isTTY) {
      for (const ch of d.toString()) command(ch);
      return;
    }
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) command(l);
  };
  if (input.isTTY) input.setRawMode(true);
  input.on('data', onData);
  input.resume();
  return () => {
    input.off('data', onData);
    if (input.isTTY) input.setRawMode(false);
    input.pause();
  };
}

async function main(): Promise<number> {
  const serialMeters = envInteger('DCU_DEMO_METERS', 4, 1, 1024);
  const tcpMeters = envInteger('DCU_DEMO_TCP_METERS', 2, 0, 256);
  const lines = envInteger('DCU_DEMO_LINES', 2, 1, 64);
  const baud = envInteger('DCU_DEMO_BAUD', 38400, 300, 115200);
  const seconds = envInteger('DCU_DEMO_SECONDS', 0, 0, 86_400);
  const print = (line: string): void => {
    process.stdout.write(line.includes('\n') ? `${line}\n` : `${clock()} ${line}\n`);
  };
  let quitting: Promise<void> | undefined;
  let unlisten = (): void => undefined;
  const started = startDemo({ serialMeters, tcpMeters, lines, baud }, print);
  const done = new Promise<void>((resolve) => {
    const quit = (): void => {
      if (quitting !== undefined) return;
      print('stopping: dcud, HES console, WAN link, broker, simulated meters…');
      unlisten();
      // a stop during start-up waits for the start to finish, then takes everything down
      quitting = started.then(
        (d) => d.stop().then(() => print('stopped; nothing left running')),
        () => undefined,
      );
      void quitting.then(resolve);
    };
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
    process.on('SIGHUP', quit);
    started.then(
      (d) => {
        if (quitting !== undefined) return;
        print(`keys: w = cut/restore the WAN, q or Ctrl-C = stop${process.stdin.isTTY ? '' : ' (stdin lines: wan down, wan up, q)'}`);
        unlisten = listen(d, quit);
        if (seconds > 0) setTimeout(quit, seconds * 1000).unref();
      },
      (e: unknown) => {
        process.stderr.write(`dcu demo: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
        resolve();
      },
    );
  });
  await done;
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`dcu demo: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(e instanceof DemoUsageError ? 2 : 1);
    },
  );
}
