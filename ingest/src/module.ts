/**
 * The shape every service module has (STYLE.md; zigbee2mqtt lib/extension): the controller starts
 * modules in order and stops them in reverse. `stop()` clears timers and listeners and closes sockets.
 */
export interface Module {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PublishOptions {
  qos: 0 | 1;
  retain: boolean;
}

/** How modules publish to MQTT, whichever broker is in use (external via MQTT.js, or the embedded aedes). */
export interface Publisher {
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void>;
}

/** Injectable clock: real in production, fake in tests. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
