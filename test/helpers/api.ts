/**
 * Calls the daemon's local API in tests: HTTPS on a port (the self-signed certificate is
 * accepted here; the CLI pins it) or HTTP on the Unix socket.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ApiAnswer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test answers are checked field by field
}

export interface Target {
  readonly port?: number;
  readonly socket?: string;
}

/** `fresh`: a connection of its own (as each dcu command opens), not one kept alive from an earlier call. */
export function call(target: Target, method: string, path: string, opts: { token?: string; body?: unknown; raw?: string; contentType?: string; fresh?: boolean } = {}): Promise<ApiAnswer> {
  const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    const common = { method, path, headers, ...(opts.fresh === true ? { agent: false } : {}) };
    const req =
      target.socket !== undefined
        ? httpRequest({ ...common, socketPath: target.socket })
        : httpsRequest({ ...common, host: '127.0.0.1', port: target.port, rejectUnauthorized: false });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers, json: () => JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
