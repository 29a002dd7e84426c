/** A decoded, validated device message: what the store keeps and the live state applies. */
export interface ReadingBase {
  /** Topic without the prefix, e.g. `flood/b1-power/levels/L1`. */
  subject: string;
  /** Epoch ms: the device's `ts`, or the time of receipt when it sent none. */
  ts: number;
}
export interface BayReading extends ReadingBase {
  kind: 'bay';
  bayId: string;
  zoneId: string;
  occupied: boolean;
  battery?: number | undefined;
}
export interface GateReading extends ReadingBase {
  kind: 'gate';
  gateId: string;
  event: 'entry' | 'exit';
  pass: string;
}
export interface LevelReading extends ReadingBase {
  kind: 'level';
  roomId: string;
  sensorId: string;
  /** mm above the sump-pit floor */
  mm: number;
}
export interface PumpReading extends ReadingBase {
  kind: 'pump';
  roomId: string;
  pumpId: string;
  running: boolean;
  amps?: number | undefined;
}
export interface VenueReading extends ReadingBase {
  kind: 'venue';
  venueId: string;
  in: number;
  out: number;
  /** People present after this message: not sent by the device, worked out by ingest from the running total (never below 0). */
  occupancy?: number | undefined;
}
export interface StatusReading extends ReadingBase {
  kind: 'status';
  deviceId: string;
  online: boolean;
}

export type Reading = BayReading | GateReading | LevelReading | PumpReading | VenueReading | StatusReading;
