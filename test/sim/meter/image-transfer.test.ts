import fc from 'fast-check';
import { ActionResult } from '../../../protocol/apdu/results';
import {
  firstMissingBlock,
  type ImageConfig,
  type ImageInput,
  type ImageTransferState,
  imageTransferStep,
  initialImageState,
} from '../../../sim/meter/image-transfer';
import { imageFromSnapshot, imageToSnapshot } from '../../../sim/meter/snapshot';

const CONFIG: ImageConfig = { maxImageSize: 10_000, verifyDelayMs: 0, activationDelayMs: 0, failVerification: false, failActivation: false };
const id = new TextEncoder().encode('FW');

function run(inputs: readonly ImageInput[], config = CONFIG, s0 = initialImageState(4)): { state: ImageTransferState; results: number[] } {
  let state = s0;
  const results: number[] = [];
  for (const i of inputs) {
    const out = imageTransferStep(state, i, config);
    state = out.state;
    results.push(out.result);
  }
  return { state, results };
}

const block = (n: number, len = 4): ImageInput => ({ type: 'block', number: n, value: new Uint8Array(len).fill(n) });

describe('image transfer state machine', () => {
  it('refuses an image not meant for the meter (identifier prefix), keeping what it had', () => {
    const picky = { ...CONFIG, acceptIdentifierPrefix: 'SIM-' };
    const before = run([{ type: 'initiate', identifier: new TextEncoder().encode('SIM-2'), size: 8 }, block(0)], picky).state;
    const out = imageTransferStep(before, { type: 'initiate', identifier: new TextEncoder().encode('XYZ-2'), size: 8 }, picky);
    expect(out.result).toBe(ActionResult.otherReason);
    expect(out.reason).toBe('bad-identifier');
    expect(out.state).toBe(before);
  });

  it('initiate → blocks → verify → activate', () => {
    const { state, results } = run([{ type: 'initiate', identifier: id, size: 10 }, block(0), block(2, 2), block(1), { type: 'verify', now: 0 }, { type: 'activate', now: 0 }]);
    expect(results.every((r) => r === ActionResult.success)).toBe(true);
    expect(state.status).toBe('activation-successful');
    expect([...state.image]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
    expect(state.signature).toHaveLength(32);
  });

  it('tracks the first missing block out of order', () => {
    const { state } = run([{ type: 'initiate', identifier: id, size: 40 }, block(0), block(1), block(3), block(9)]);
    expect(firstMissingBlock(state)).toBe(2);
    expect(firstMissingBlock(initialImageState(4))).toBe(0);
  });

  it('activate verifies an unverified image first, and refuses an incomplete one', () => {
    const ok = run([{ type: 'initiate', identifier: id, size: 8 }, block(0), block(1), { type: 'activate', now: 0 }]);
    expect(ok.state.status).toBe('activation-successful');
    const ko = run([{ type: 'initiate', identifier: id, size: 8 }, block(0), { type: 'activate', now: 0 }]);
    expect(ko.state.status).toBe('verification-failed');
    expect(ko.results.at(-1)).toBe(ActionResult.otherReason);
  });

  it('a new identifier restarts the transfer; the same one resumes it', () => {
    const start = run([{ type: 'initiate', identifier: id, size: 8 }, block(0)]).state;
    expect(firstMissingBlock(run([{ type: 'initiate', identifier: id, size: 8 }], CONFIG, start).state)).toBe(1);
    expect(firstMissingBlock(run([{ type: 'initiate', identifier: Uint8Array.of(1), size: 8 }], CONFIG, start).state)).toBe(0);
    expect(firstMissingBlock(run([{ type: 'initiate', identifier: id, size: 12 }], CONFIG, start).state)).toBe(0);
  });

  it('pending verification answers temporary-failure until due, then completes on a tick', () => {
    const cfg = { ...CONFIG, verifyDelayMs: 100 };
    const { state, results } = run([{ type: 'initiate', identifier: id, size: 4 }, block(0), { type: 'verify', now: 1000 }, { type: 'verify', now: 1099 }, block(0)], cfg);
    expect(results.slice(2)).toEqual([ActionResult.temporaryFailure, ActionResult.temporaryFailure, ActionResult.temporaryFailure]);
    expect(state.status).toBe('verification-initiated');
    const done = imageTransferStep(state, { type: 'tick', now: 1100 }, cfg);
    expect(done.state.status).toBe('verification-successful');
    expect(done.effects).toEqual([{ type: 'verified', identifier: id }]);
  });

  it('survives its snapshot form', () => {
    const { state } = run([{ type: 'initiate', identifier: id, size: 10 }, block(0), block(2, 3)]);
    const back = imageFromSnapshot(JSON.parse(JSON.stringify(imageToSnapshot(state))) as ReturnType<typeof imageToSnapshot>);
    expect(back).toEqual(state);
  });

  it('random inputs never throw and keep the bitmap consistent (property)', () => {
    const input = fc.oneof(
      fc.record({ type: fc.constant('initiate' as const), identifier: fc.uint8Array({ minLength: 0, maxLength: 3 }), size: fc.integer({ min: -1, max: 40 }) }),
      fc.record({ type: fc.constant('block' as const), number: fc.integer({ min: -1, max: 12 }), value: fc.uint8Array({ maxLength: 6 }) }),
      fc.record({ type: fc.constantFrom('verify' as const, 'activate' as const, 'tick' as const), now: fc.integer({ min: 0, max: 1000 }) }),
      fc.record({ type: fc.constant('enable' as const), enabled: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(input, { maxLength: 40 }), fc.boolean(), (inputs, delays) => {
        const cfg = delays ? { ...CONFIG, verifyDelayMs: 50, activationDelayMs: 50 } : CONFIG;
        const { state } = run(inputs, cfg);
        const n = Math.ceil(state.size / state.blockSize);
        const first = firstMissingBlock(state);
        return first >= 0 && first <= n && state.image.length === state.size;
      }),
    );
  });
});
