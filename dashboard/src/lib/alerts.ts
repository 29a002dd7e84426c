/**
 * Words for alerts in the user's language, all from the one renderer (@parkops/ingest/text): an
 * alert's headline (place and key figure), its message from the structured details, and the time to
 * the next line. The server's `message` (in the site's language) is only the fallback for an alert
 * stored without details.
 */
import type { Alert } from '@parkops/contract';
import type { AlertText } from '@parkops/ingest/text/alert-text.ts';

/** Live (firing or acknowledged) before cleared, then the most urgent, then the newest. */
export function byUrgency(a: Alert, b: Alert): number {
  const live = (x: Alert): number => (x.state === 'resolved' ? 1 : 0);
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  return live(a) - live(b) || rank[a.severity] - rank[b.severity] || b.startedAt.localeCompare(a.startedAt);
}

/** The message and, while it is firing, the time to the next line: "…; reaches the floor in ~14 min". */
export function describeAlert(text: AlertText, a: Alert, now: number = Date.now()): string {
  const bits = [text.alertMessage(a, now)];
  const eta = a.state === 'resolved' ? null : text.eta(a.etaMin, a.etaTarget);
  if (eta) bits.push(eta);
  return bits.join(' · ');
}

/** "创启大厦B1配电室 水位 712 mm，危急": where, and the figure that matters. */
export function alertHeadline(text: AlertText, a: Alert): string {
  return text.alertHeadline(a);
}
