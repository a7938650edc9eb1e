/** Meter side of the DLMS application layer (used by the simulator and tests). */
export * from './contract';
export * from './object';
export { DlmsServer } from './server';
export { DEFAULT_SERVER_CONFORMANCE, DEFAULT_MAX_PDU_SIZE, type DlmsServerOptions, type DlmsServerLimits, type DlmsServerFaults } from './options';
export type { Association } from './state';
export { classTablePolicy, fullAccessPolicy, readOnlyPolicy } from './access';
export { AssociationLnObject, CURRENT_ASSOCIATION_OBIS, objectListEntry, objectListFor } from './association-ln';
export { ListObjectModel, ValueObject, type AttributeSource, type MethodHandler, type ValueObjectSpec } from './value-object';
export { HdlcMeterStation, type HdlcMeterStationOptions, type HdlcStationStats } from './station';
export { WrapperMeterStation, type WrapperMeterStationOptions, type WrapperStationStats } from './wrapper-station';
export { answerToFailedRequest, type StationCommonOptions, type StationSessionEvent, type StationStats } from './station-common';
export { SecuritySetupState } from './security-state';
