/**
 * The vocabulary of OASIS CAP 1.2 (Common Alerting Protocol, OASIS Standard, 1 July 2010) that
 * ParkOps reads (docs/warnings.md). Values are case-sensitive in CAP and listed here as the
 * standard spells them (section 3.2).
 */

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';
/** Earlier versions, named in the refusal so a sender knows what to change. */
export const CAP_OLD_NAMESPACES: Record<string, string> = {
  'urn:oasis:names:tc:emergency:cap:1.1': 'CAP 1.1',
  'http://www.incident.com/cap/1.0': 'CAP 1.0',
};

/** Largest CAP document accepted (HTTP body, MQTT payload, one feed entry). Real warnings are a few KiB. */
export const MAX_CAP_BYTES = 128 * 1024;

export const CAP_STATUS = ['Actual', 'Exercise', 'System', 'Test', 'Draft'] as const;
export const CAP_MSG_TYPES = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'] as const;
export const CAP_SCOPES = ['Public', 'Restricted', 'Private'] as const;
export const CAP_CATEGORIES = ['Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other'] as const;
export const CAP_RESPONSE_TYPES = ['Shelter', 'Evacuate', 'Prepare', 'Execute', 'Avoid', 'Monitor', 'Assess', 'AllClear', 'None'] as const;
export const CAP_URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;
/** Most severe first. */
export const CAP_SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
export const CAP_CERTAINTIES = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const;

export type CapStatus = (typeof CAP_STATUS)[number];
export type CapMsgType = (typeof CAP_MSG_TYPES)[number];
export type CapScope = (typeof CAP_SCOPES)[number];
export type CapCategory = (typeof CAP_CATEGORIES)[number];
export type CapUrgency = (typeof CAP_URGENCIES)[number];
export type CapSeverity = (typeof CAP_SEVERITIES)[number];
export type CapCertainty = (typeof CAP_CERTAINTIES)[number];

/** `valueName`/`value` pairs of eventCode, parameter and geocode. */
export interface CapNamedValue {
  valueName: string;
  value: string;
}
