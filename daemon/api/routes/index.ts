/**
 * Every route module of the local API. A new area (firmware campaigns, configuration, keys)
 * writes `(app, ctx) => void` in its own file, with `config: { role }` on each route, and
 * adds it here; authentication, roles, typed errors and the audit of writes come for free.
 */
import type { ApiRouteModule } from '../context';
import { dataRoutes } from './data';
import { firmwareRoutes } from './firmware';
import { jobRoutes } from './jobs';
import { meterRoutes } from './meters';
import { statusRoutes } from './status';
import { userRoutes } from './users';

export const API_ROUTES: readonly ApiRouteModule[] = [statusRoutes, meterRoutes, jobRoutes, dataRoutes, userRoutes, firmwareRoutes];
