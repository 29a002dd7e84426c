/** The alert engine: rules, lifecycle, persistence, incidents and the alerts API. See docs/alerts.md. */
export { AlertEngine, AlertNotAckable, AlertNotFound, type AlertEngineDeps, type AuditEntry } from './alert-engine.ts';
export { alertsRouter } from './alerts-router.ts';
export { RULES, type AlertChange, type RuleName } from './types.ts';
export type { IncidentDetail, IncidentSummary, NotificationAttempt, NotificationLog, TimelineEntry } from './incidents.ts';
export { SqliteAlertRepository, ALERTS_SCHEMA } from './alert-repository.ts';
export { SqliteIncidentRepository } from './incident-repository.ts';
