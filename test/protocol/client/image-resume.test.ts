/** The pure half of a resumable image transfer: where to start, which blocks to send. */
import fc from 'fast-check';
import { checkAfterInitiate, imageBlock, imageBlockCount, planImageBlocks, planImageStart } from '../../../protocol/client/image-resume';
import { ImageStatus } from '../../../protocol/client/image-transfer';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';

const ID = new TextEncoder().encode('FW-2.1');
const OTHER = new TextEncoder().encode('FW-9.9');

describe('planImageBlocks', () => {
  it('sends everything on a fresh meter', () => {
    expect(planImageBlocks(5, 0, '00000')).toEqual([0, 1, 2, 3, 4]);
  });

  it('resumes from the first not transferred block', () => {
    expect(planImageBlocks(6, 4, '111100')).toEqual([4, 5]);
  });

  it('fills the gaps the bit string shows below the first missing block', () => {
    // A meter whose first_not_transferred says 4 but whose bit string lost block 1.
    expect(planImageBlocks(6, 4, '101100')).toEqual([1, 4, 5]);
  });

  it('skips blocks received out of order above the first missing one', () => {
    expect(planImageBlocks(6, 2, '110101')).toEqual([2, 4]);
  });

  it('counts blocks beyond a short bit string as missing, never blocks below first as missing without a 0 bit', () => {
    expect(planImageBlocks(5, 2, '11')).toEqual([2, 3, 4]);
    expect(planImageBlocks(5, 3, '')).toEqual([3, 4]);
  });

  it('sends nothing when all are in, and clamps a first-not-transferred beyond the end', () => {
    expect(planImageBlocks(3, 3, '111')).toEqual([]);
    expect(planImageBlocks(3, 99, '111')).toEqual([]);
  });

  it('property: after sending the plan, every block is on the meter, and no block is sent twice', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }).chain((n) => fc.tuple(fc.constant(n), fc.array(fc.boolean(), { minLength: n, maxLength: n }))), ([n, held]) => {
        const bits = held.map((b) => (b ? '1' : '0')).join('');
        const first = held.indexOf(false) === -1 ? n : held.indexOf(false);
        const plan = planImageBlocks(n, first, bits);
        expect(new Set(plan).size).toBe(plan.length);
        expect([...plan].sort((a, b) => a - b)).toEqual(plan);
        for (let i = 0; i < n; i++) expect(held[i] === true || plan.includes(i)).toBe(true);
        for (const b of plan) expect(held[b]).toBe(false);
      }),
    );
  });
});

describe('planImageStart', () => {
  const info = (status: number, transferred: string, toActivate: { size: number; identifier: Uint8Array }[] = []) => ({
    status,
    transferred,
    toActivate: toActivate.map((t) => ({ ...t, signature: new Uint8Array(0) })),
  });

  it('starts fresh on a meter without a transfer', () => {
    expect(planImageStart(info(ImageStatus.notInitiated, ''), ID, 1000, 100)).toEqual({ kind: 'fresh', reason: 'no-transfer' });
  });

  it('resumes a partial transfer with our block count (the initiate keeps ours, drops another)', () => {
    expect(planImageStart(info(ImageStatus.initiated, '1110000000'), ID, 1000, 100)).toEqual({ kind: 'resume' });
    expect(planImageStart(info(ImageStatus.verificationFailed, '1111111110'), ID, 1000, 100)).toEqual({ kind: 'resume' });
  });

  it('starts over when the partial transfer has another block count (another image)', () => {
    expect(planImageStart(info(ImageStatus.initiated, '111'), ID, 1000, 100)).toEqual({ kind: 'fresh', reason: 'other-image' });
  });

  it('skips the transfer of our verified image, starts over on another verified one', () => {
    expect(planImageStart(info(ImageStatus.verificationSuccessful, '1111111111', [{ size: 1000, identifier: ID }]), ID, 1000, 100)).toEqual({ kind: 'verified' });
    expect(planImageStart(info(ImageStatus.activationFailed, '1111111111', [{ size: 1000, identifier: ID }]), ID, 1000, 100)).toEqual({ kind: 'verified' });
    expect(planImageStart(info(ImageStatus.verificationSuccessful, '1111111111', [{ size: 1000, identifier: OTHER }]), ID, 1000, 100)).toEqual({ kind: 'fresh', reason: 'other-image-verified' });
    expect(planImageStart(info(ImageStatus.verificationSuccessful, '1111111111', [{ size: 999, identifier: ID }]), ID, 1000, 100)).toEqual({ kind: 'fresh', reason: 'other-image-verified' });
  });

  it('sends an image the meter already activated again (the explicit ask)', () => {
    expect(planImageStart(info(ImageStatus.activationSuccessful, '1111111111', [{ size: 1000, identifier: ID }]), ID, 1000, 100)).toEqual({ kind: 'fresh', reason: 'ours-activated' });
  });
});

describe('checkAfterInitiate', () => {
  it('accepts an empty meter after a fresh start and any state after a resume', () => {
    expect(() => checkAfterInitiate({ kind: 'fresh', reason: 'other-image' }, { firstNotTransferred: 0, transferred: '0000' }, ID)).not.toThrow();
    expect(() => checkAfterInitiate({ kind: 'resume' }, { firstNotTransferred: 2, transferred: '1100' }, ID)).not.toThrow();
  });

  it('refuses to send on top of blocks the meter kept across a fresh initiate', () => {
    let caught: unknown;
    try {
      checkAfterInitiate({ kind: 'fresh', reason: 'other-image' }, { firstNotTransferred: 0, transferred: '0100' }, ID);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(DcuError);
    expect((caught as DcuError).code).toBe(ErrorCode.MeterActionResult);
    expect((caught as DcuError).message).toMatch(/no block was sent/);
  });
});

describe('blocks', () => {
  it('cuts the last block short and refuses a zero block size', () => {
    const image = Uint8Array.from({ length: 250 }, (_, i) => i);
    expect(imageBlockCount(250, 100)).toBe(3);
    expect(imageBlock(image, 100, 2)).toEqual(image.subarray(200, 250));
    expect(() => imageBlockCount(250, 0)).toThrow(DcuError);
  });
});
