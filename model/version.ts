/** Meter's version, reported by agents and sites. @module */
export const METER_VERSION = "0.1.0";
