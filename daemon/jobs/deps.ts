/** What every job that talks to meters stands on (the composition root builds it once). */
import type { Config } from '../../config/schema';
import type { MeterMetadataCache } from '../../protocol/client/meta-cache';
import type { Clock } from '../../protocol/common/clock';
import type { Logger } from '../../protocol/common/log';
import type { InvocationCounterStore } from '../../protocol/security/counters';
import type { MeterRepository } from '../../storage/meters';
import type { ReadingsStore } from '../../storage/readings';
import type { LineRuntime } from '../lines/line';
import type { Registry } from '../registry/registry';

export interface JobDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly lines: ReadonlyMap<string, LineRuntime>;
  readonly meters: MeterRepository;
  readonly registry: Registry;
  readonly readings: ReadingsStore;
  readonly metaCache: MeterMetadataCache;
  readonly counters: InvocationCounterStore;
}
