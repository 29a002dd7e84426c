/** The query of `GET /api/notifications` (docs/notifications.md), apart from the shapes so browsers need no zod. */
import { z } from 'zod';
import { ATTEMPT_STATUSES } from './notifications.ts';

/** Query of `GET /api/notifications`. */
export const notificationsQuery = z.object({
  alert: z.string().min(1).max(200).optional(),
  status: z.enum(ATTEMPT_STATUSES, { message: 'must be sent, retrying or failed' }).optional(),
  limit: z.coerce.number({ message: 'must be a whole number 1..1000' }).int('must be a whole number 1..1000').min(1, 'must be a whole number 1..1000').max(1000, 'must be a whole number 1..1000').default(100),
});
export type NotificationsQuery = z.infer<typeof notificationsQuery>;
