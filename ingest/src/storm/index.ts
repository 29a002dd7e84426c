/** Storm mode's effects beyond the rules' numbers: the storm-mode alert, the readiness checklist, the timeline (docs/warnings.md). */
import type { WarningService } from '../warnings/warning-service.ts';
import type { StormSource } from './storm-service.ts';

export { StormService, StormError, warningRef, EVALUATE_EVERY_MS, type StormServiceDeps, type StormSource, type StormAlerts } from './storm-service.ts';
export { SqliteStormRepository, type StormRepository, type ChecklistTick, type StoredItemState } from './repository.ts';
export { PumpHistory, evaluateItem, type ContactRoute, type ChecklistSources } from './checklist.ts';
export { stormRouter } from './routes.ts';
export { contactRoutes, type DeliveryAttempt } from './contacts.ts';
export { StormText, type Lang } from './text.ts';

/** The warnings module as storm mode reads it. */
export function stormSourceOf(w: WarningService): StormSource {
  return {
    stormMode: (roomId, now) => w.stormMode(roomId, now),
    stormWarnings: (now) => w.stormWarnings(now).map((x) => w.view(x, now)),
    stormSince: (roomId) => w.stormSince(roomId),
  };
}
