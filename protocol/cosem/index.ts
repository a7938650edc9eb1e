/** COSEM layer: OBIS, units, interface classes as data, selective access, profiles, object lists, clock. */
export * from './obis';
export * from './obis-names';
export * from './units';
export * from './capture-object';
export * from './selective-access';
export * from './profile';
export * from './object-list';
export * from './clock';
export * from './classes';
