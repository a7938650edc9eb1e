/**
 * The meter the simulator runs: a real DLMS server over the COSEM meter model
 * (sim/meter). Tests of the plumbing alone pass `createEchoMeter` explicitly.
 */
import { createSimMeter } from './meter';
import type { SimMeterFactory } from './types';

export const defaultMeterFactory: SimMeterFactory = (spec, deps, options = {}) => createSimMeter(spec, deps, options);

/** Tells the CLI output whether the meters are real DLMS servers or the echo stand-in. */
export const METER_MODEL = 'DLMS/COSEM meter model (sim/meter)';
