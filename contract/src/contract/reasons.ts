/** Why a device message was rejected. Published on `park/rejected`, counted in /metrics by this code. */
export const REJECTION_CODES = [
  'payload_too_large',
  'invalid_utf8',
  'invalid_json',
  'not_an_object',
  'missing_field',
  'wrong_type',
  'out_of_range',
  'invalid_time',
  'future_time',
  'unknown_topic',
  'unknown_id',
  'invalid_status',
] as const;

/**
 * Further reasons for network-server uplinks (docs/api.md, LoRaWAN): the uplink's FRMPayload could
 * not be read by the codec its binding names. The section-1 reasons above apply to uplinks too.
 */
export const UPLINK_REJECTION_CODES = ['invalid_base64', 'unknown_fport', 'payload_too_short', 'undecodable_payload'] as const;

export type RejectionCode = (typeof REJECTION_CODES)[number] | (typeof UPLINK_REJECTION_CODES)[number];

export interface Rejection {
  code: RejectionCode;
  /** Human-readable, starts with the code, e.g. `missing_field: "occupied" is required`. */
  reason: string;
}

export function rejection(code: RejectionCode, detail: string): Rejection {
  return { code, reason: `${code}: ${detail}` };
}
