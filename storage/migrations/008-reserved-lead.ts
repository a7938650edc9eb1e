import type { Migration } from './index';

/**
 * Placeholder for the lead's migration 008 (jobs), so that 009 applies on this branch:
 * the merge replaces this file with the real 008. It changes nothing.
 */
export const m008Reserved: Migration = {
  version: 8,
  name: 'reserved (lead: jobs)',
  up: () => undefined,
};
