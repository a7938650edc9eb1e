/**
 * The meter the simulator runs. Until the meter model (daemon/sim/meter) is wired, the
 * stand-in echo meter answers; to switch, make this:
 *
 *   export const defaultMeterFactory: SimMeterFactory = (spec, deps) => createSimMeter(toSimMeterConfig(spec), deps);
 */
import { createEchoMeter } from './fake-meter';
import type { SimMeterFactory } from './types';

export const defaultMeterFactory: SimMeterFactory = (spec) => createEchoMeter(spec);

/** Tells the CLI output whether the meters are real DLMS servers or the echo stand-in. */
export const METER_MODEL = 'echo stand-in (not a DLMS server)';
