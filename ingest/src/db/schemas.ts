/**
 * Every module's schema, for the start-up migration (db/migrations.ts). The order is the order their
 * pending migrations run in one transaction: a module whose tables reference another's comes after it.
 */
import { ALERTS_SCHEMA } from '../alerts/alert-repository.ts';
import { AUTH_SCHEMA } from '../auth/sqlite-repository.ts';
import { DEVICES_SCHEMA } from '../devices/repository.ts';
import { LIVE_SCHEMA } from '../live-state.ts';
import { NOTIFY_SCHEMA } from '../notify/repository.ts';
import { PUSH_SCHEMA } from '../notify/push-subscriptions.ts';
import { STORM_SCHEMA } from '../storm/repository.ts';
import { ROLLUPS_SCHEMA } from '../reports/rollups.ts';
import { INFLUX_STORE_SCHEMA } from '../store/influx-store.ts';
import { OUTBOX_SCHEMA } from '../store/outbox.ts';
import { TIMESERIES_SCHEMA } from '../store/sqlite-store.ts';
import { WARNINGS_SCHEMA } from '../warnings/repository.ts';
import type { ModuleSchema } from './migrations.ts';

export const SCHEMAS: readonly ModuleSchema[] = [
  TIMESERIES_SCHEMA,
  ROLLUPS_SCHEMA,
  LIVE_SCHEMA,
  AUTH_SCHEMA,
  NOTIFY_SCHEMA,
  PUSH_SCHEMA,
  ALERTS_SCHEMA,
  DEVICES_SCHEMA,
  WARNINGS_SCHEMA,
  STORM_SCHEMA,
  OUTBOX_SCHEMA,
  INFLUX_STORE_SCHEMA,
];
