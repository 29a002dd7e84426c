/** Official weather warnings (CAP 1.2) and storm mode (docs/api.md, official warnings; docs/warnings.md). */
export { WarningService, warningId, type ReceiveResult, type WarningServiceDeps } from './warning-service.ts';
export { SqliteWarningRepository, type StoredWarning, type StormState, type WarningRepository, type WarningVia } from './repository.ts';
export { FeedPoller, type PollResult } from './feed-poller.ts';
export { warningsRouter, CAP_MEDIA_TYPES } from './warnings-router.ts';
export { parseCap, describeProblems, parseCapTime, type CapAlert, type CapInfo, type CapArea, type CapProblem } from './cap.ts';
export { judge, inForceAt, areaCoversSite, isStormInfo, type Judgement } from './relevance.ts';
