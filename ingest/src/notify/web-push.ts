/**
 * Web Push set-up: the subscription store, the VAPID keys and the channel. A key file that cannot be
 * read turns push off with the reason (the API says it, the log says it once) and ParkOps runs on:
 * the dashboard, the robots and the webhooks do not depend on it.
 */
import type { Config } from '../config.ts';
import type { Role } from '@parkops/contract/api.ts';
import type { Logger } from '../log.ts';
import type { Db } from '../store/db.ts';
import { WebPushChannel } from './channels/webpush.ts';
import type { SiteNames } from './format.ts';
import { SqlitePushSubscriptions, type PushSubscriptionRepository } from './push-subscriptions.ts';
import { loadVapidKeys, VapidKeyError, VAPID_FILE } from './vapid-keys.ts';

export interface WebPush {
  repo: PushSubscriptionRepository;
  channel: WebPushChannel | null;
  offReason: string | null;
}

export function setUpWebPush(deps: { db: Db; config: Config; site?: SiteNames | undefined; log: Logger; roleOf: (username: string) => Role | null }): WebPush {
  const log = deps.log.child({ module: 'push' });
  const repo = new SqlitePushSubscriptions(deps.db);
  try {
    const keys = loadVapidKeys(deps.config);
    if (keys.source === 'generated') log.info({ file: VAPID_FILE }, 'generated the Web Push (VAPID) key pair; it stays in the data folder: back it up with it');
    return { repo, channel: new WebPushChannel({ repo, keys, roleOf: deps.roleOf, site: deps.site, allowHosts: deps.config.PARKOPS_PUSH_ALLOW_HOSTS, log }), offReason: null };
  } catch (err) {
    if (!(err instanceof VapidKeyError)) throw err;
    log.error({ reason: err.message }, 'Web Push is off: the VAPID keys cannot be loaded');
    return { repo, channel: null, offReason: err.message };
  }
}
