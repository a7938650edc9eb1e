/**
 * Input limits: a JSON document nested 10,000 levels deep (20 KB) is one typed usage error
 * naming the depth limit (it was `900 internal – Maximum call stack size exceeded`), and a
 * command's answers never go to a wildcard topic or under the concentrator's own cmd/.
 */
import { validateConfig } from '../../config/validate';
import { HesCommands } from '../../daemon/hes/commands';
import { jsonDepth, MAX_JSON_DEPTH, replyTopicProblem } from '../../daemon/input-limits';
import { FakeClock } from '../../protocol/common/clock';
import { ErrorCode } from '../../protocol/common/errors';
import { nullLogger } from '../../protocol/common/log';

const deep = (n: number): string => `{"meters":${'['.repeat(n)}${']'.repeat(n)}}`;

describe('input limits', () => {
  it('measures nesting without recursion, strings and escapes skipped', () => {
    expect(jsonDepth('{}')).toBe(1);
    expect(jsonDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonDepth('{"a":"[[[[{{{{\\"[[["}')).toBe(1);
    expect(jsonDepth('"\\\\"')).toBe(0);
    expect(jsonDepth(deep(10_000), 1_000_000)).toBe(10_001);
    expect(jsonDepth(deep(10_000))).toBe(MAX_JSON_DEPTH + 1); // stops as soon as it is over
  });

  it('refuses reply topics with wildcards, broker $ topics and the concentrator\'s own cmd/', () => {
    expect(replyTopicProblem('hes/replies/7', 'dcu/x/')).toBeUndefined();
    expect(replyTopicProblem('dcu/x/resp/read', 'dcu/x/')).toBeUndefined();
    expect(replyTopicProblem('hes/+/r', 'dcu/x/')).toMatch(/wildcard/);
    expect(replyTopicProblem('hes/#', 'dcu/x/')).toMatch(/wildcard/);
    expect(replyTopicProblem('$SYS/x', 'dcu/x/')).toMatch(/broker/);
    expect(replyTopicProblem('dcu/x/cmd/meter-remove', 'dcu/x/')).toMatch(/own dcu\/x\/cmd\//);
    expect(replyTopicProblem('', 'dcu/x/')).toMatch(/empty/);
  });

  describe('HES commands', () => {
    const submitted: unknown[] = [];
    const answers: { doc: Record<string, unknown>; via: { replyTo?: string } }[] = [];
    const scheduler = { submit: (r: unknown) => (submitted.push(r), { job: { id: 'j-1' }, meters: [], created: false }), cancel: () => ({ found: false }), on: () => () => undefined, jobs: {} };
    const config = validateConfig({ id: 'dcu-lim', stateDir: '/tmp/x', lines: [{ name: 'ip', tcp: {} }], meters: [{ serial: 'A1', line: 'ip', address: '127.0.0.1:1', client: 17, auth: 'low', password: '00000000' }] });
    const hes = new HesCommands({ config, clock: new FakeClock(), logger: nullLogger, scheduler: scheduler as never, meters: {} as never, status: () => ({}) });
    const send = (name: string, text: string): Record<string, unknown> => {
      answers.length = 0;
      hes.handle(name, new TextEncoder().encode(text), (doc, via) => answers.push({ doc, via }));
      return answers[0]?.doc ?? {};
    };
    beforeEach(() => (submitted.length = 0));

    it('answers a payload nested 10,000 levels deep with a usage error that states the limit', () => {
      const text = deep(10_000);
      expect(text.length).toBeGreaterThan(20_000);
      for (const name of ['read', 'meter-add', 'fw-image']) {
        const a = send(name, text);
        expect(a).toMatchObject({ type: 'error', error: { code: ErrorCode.Usage, name: 'usage' } });
        expect((a.error as { message: string }).message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
      }
      expect(send('read', `{"meters":["A1"],"what":["registers"],"x":${'['.repeat(31)}${']'.repeat(31)}}`)).toMatchObject({ type: 'error', error: { code: ErrorCode.Usage } }); // 32 deep passes the limit, then the schema names the unknown field
      expect(submitted).toEqual([]);
    });

    it('refuses a replyTo that is no topic name or is under its own cmd/, answering on resp/ and executing nothing', () => {
      for (const replyTo of ['hes/+/replies', 'hes/#', 'dcu/dcu-lim/cmd/read', '$SYS/x']) {
        const a = send('read', JSON.stringify({ meters: ['A1'], what: ['registers'], replyTo, correlationId: 'c-1' }));
        expect(a).toMatchObject({ command: 'read', correlationId: 'c-1', type: 'error', error: { code: ErrorCode.Usage } });
        expect((a.error as { message: string }).message).toMatch(/reply topic/);
        expect(answers[0]?.via.replyTo).toBeUndefined(); // the refusal goes to resp/read
      }
      expect(submitted).toEqual([]);
      expect(send('read', JSON.stringify({ meters: ['A1'], what: ['registers'], replyTo: 'hes/replies/1' }))).toMatchObject({ type: 'accepted' });
      expect(answers[0]?.via.replyTo).toBe('hes/replies/1');
    });
  });
});
