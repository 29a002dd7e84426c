/** The ParkOps contract (docs/api.md): subjects, topics, payload schemas, rejection reasons, readings and API shapes. */
export * from './subjects.ts';
export * from './topics.ts';
export * from './payloads.ts';
export * from './reasons.ts';
export * from './readings.ts';
export * from './decode.ts';
export * from './api.ts';
export * from './cap.ts';
export * from './push.ts';
export * from './reports.ts';
export * from './auth.ts';
export * from './storm.ts';
export * from './notifications.ts';
export * from './notifications-query.ts';
export * from './errors.ts';
export * from './acknowledge.ts';
