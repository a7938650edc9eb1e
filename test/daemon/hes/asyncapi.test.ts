/**
 * docs/asyncapi.yaml: its command part is what `npm run docs:asyncapi` generates from
 * COMMAND_SCHEMAS / ANSWER_SCHEMAS (a stale file fails here), and the whole file parses
 * with @asyncapi/parser and has a channel per command.
 */
import { readFileSync } from 'node:fs';
import { COMMAND_NAMES } from '../../../daemon/hes/commands';
import { renderAsyncApi } from '../../../daemon/hes/asyncapi';
import { ASYNCAPI_FILE, loadContract } from '../../helpers/asyncapi';

describe('docs/asyncapi.yaml', () => {
  it('is up to date with the command schemas (run `npm run docs:asyncapi` when this fails)', () => {
    const text = readFileSync(ASYNCAPI_FILE, 'utf8');
    expect(renderAsyncApi(text)).toBe(text);
  });

  it('parses, and every command has its channel, request and answer messages', async () => {
    const contract = await loadContract();
    for (const name of COMMAND_NAMES) {
      expect(contract.addresses).toContain(`dcu/{dcuId}/cmd/${name}`);
      expect(() => contract.checkMessage(`cmd-${name}`, { bogus: 1 })).toThrow(/does not match/);
    }
    contract.checkMessage('cmd-read', { meters: ['A1'], what: ['registers'], correlationId: 'c1' });
    contract.checkMessage('cmd-read-answer', { command: 'read', type: 'accepted', job: 'j1', meters: 1, created: true });
    contract.checkMessage('cmd-status-answer', { command: 'status', type: 'error', error: { code: 810, name: 'invalid-json', message: 'x' } });
    expect(() => contract.checkMessage('cmd-read-answer', { command: 'read', type: 'ok' })).toThrow(/does not match/);
    contract.check('dcu/d1/resp/meters', { command: 'meters', type: 'ok', count: 0, meters: [] });
  });
});
