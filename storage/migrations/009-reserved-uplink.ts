import type { Migration } from './index';

/**
 * Placeholder for helper uplink's migration 009 (outbox sequence per stream), so that 010
 * applies on this branch: the merge replaces this file with the real 009. It changes nothing.
 */
export const m009Reserved: Migration = {
  version: 9,
  name: 'reserved (uplink: outbox sequence per stream)',
  up: () => undefined,
};
