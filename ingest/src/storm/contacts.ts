/**
 * `contacts-reachable`: the routes by which ParkOps reaches people outside the dashboard, and how
 * each one's last finished delivery went, from what the notifications module already records.
 *
 * A route counts when it is configured: the settings webhook (its deliveries are channel `webhook`,
 * `node-red` when a flow handed them off, `fallback` when the core sent a critical one for a flow),
 * each group robot, phone push once at least one responder has subscribed, and the site's escalation
 * contacts. A delivery still being retried is not finished and does not count either way.
 */
import type { ContactRoute } from './checklist.ts';

export interface DeliveryAttempt {
  channel: string;
  status: 'sent' | 'retrying' | 'failed';
  /** ISO 8601 */
  at: string;
  error: string | null;
  httpStatus: number | null;
}

/** The attempt channels that belong to each route. */
const ATTEMPTS_OF: Record<string, string[]> = { webhook: ['webhook', 'node-red', 'fallback'] };

export function contactRoutes(o: {
  webhook: boolean;
  /** the channels built from the settings: `wecom`, `dingtalk`, `feishu`, `webpush` */
  channels: readonly string[];
  pushSubscriptions: () => Promise<number>;
  escalationContacts: number;
  /** delivery attempts, newest first (the notifications module keeps the last 1000 here) */
  recent: () => Promise<DeliveryAttempt[]>;
}): { routes(): Promise<ContactRoute[]> } {
  return {
    async routes(): Promise<ContactRoute[]> {
      const names: string[] = [];
      if (o.webhook) names.push('webhook');
      for (const c of o.channels) if (c !== 'webpush' || (await o.pushSubscriptions()) > 0) names.push(c);
      if (o.escalationContacts > 0) names.push('escalation');
      if (names.length === 0) return [];
      const attempts = await o.recent();
      return names.map((channel) => {
        const of = ATTEMPTS_OF[channel] ?? [channel];
        const a = attempts.find((x) => of.includes(x.channel) && x.status !== 'retrying');
        return { channel, last: a ? { ok: a.status === 'sent', at: Date.parse(a.at), error: a.error ?? (a.httpStatus !== null ? `HTTP ${a.httpStatus}` : null) } : null };
      });
    },
  };
}
