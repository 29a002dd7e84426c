/**
 * The codec table (docs/api.md, LoRaWAN). Adding a codec is one file in this folder and one row here.
 */
import decoded from './decoded.ts';
import draginoLdds75 from './dragino-ldds75.ts';
import milesightEm310Udl from './milesight-em310-udl.ts';
import milesightEm500Swl from './milesight-em500-swl.ts';
import milesightVs133 from './milesight-vs133.ts';
import nwaveNps from './nwave-nps.ts';
import type { AnyCodec } from './types.ts';

export const CODECS: ReadonlyMap<string, AnyCodec> = new Map(
  [decoded, milesightEm310Udl, milesightEm500Swl, draginoLdds75, nwaveNps, milesightVs133].map((c) => [c.name, c]),
);

export type { AnyCodec, CodecInput, CodecResult, CounterState, CounterStore, Telemetry } from './types.ts';
