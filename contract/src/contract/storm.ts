/**
 * Storm mode's HTTP shapes (docs/warnings.md, "The readiness checklist"), as zod schemas for the request
 * bodies so the routes validate them and the OpenAPI step can read them. The answers are the
 * `RoomStormView` and `ChecklistItemView` types of api.ts.
 */
import { z } from 'zod';

/** `POST /api/flood/{room}/checklist/{item}`: tick (`done: true`) or untick a manual item, with an optional note. */
export const checklistTickBody = z
  .object({
    done: z.boolean({ message: 'must be true (ticked) or false (unticked)' }),
    note: z.string({ message: 'must be text' }).max(500, 'must be at most 500 characters').optional(),
  })
  .strict();
export type ChecklistTickBody = z.infer<typeof checklistTickBody>;

/** Ids in the path: a room and a checklist item, as the site file's ids. */
export const stormPathParams = z.object({
  roomId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a room id'),
  itemId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a checklist item id').optional(),
});
