/**
 * The behaviour every StormRepository implementation passes (one suite per interface, as the store's
 * test/integration/store-suite.ts): repository.test.ts runs it on SQLite on a real file; a PostgreSQL
 * implementation runs the same suite with its own factory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StormRepository } from './repository.ts';

export interface StormRepositoryUnderTest {
  repo: StormRepository;
  /** Closes it; `reopen()` gives a repository on the same data (a restart). */
  reopen(): Promise<StormRepositoryUnderTest>;
  close(): Promise<void>;
}

export function stormRepositorySuite(name: string, make: () => Promise<StormRepositoryUnderTest>): void {
  describe(`StormRepository: ${name}`, () => {
    let open: StormRepositoryUnderTest[] = [];
    const fresh = async (): Promise<StormRepositoryUnderTest> => {
      const r = await make();
      open.push(r);
      await r.repo.migrate();
      return r;
    };
    afterEach(async () => {
      for (const r of open) await r.close();
      open = [];
    });

    it('keeps the newest tick of each item, and the whole log in order', async () => {
      const { repo } = await fresh();
      await repo.addTick({ room: 'b1', item: 'sandbags', done: true, by: 'duty', at: 1000, note: 'at the ramp' });
      await repo.addTick({ room: 'b1', item: 'sandbags', done: false, by: 'chief', at: 2000, note: null });
      await repo.addTick({ room: 'b1', item: 'boards', done: true, by: 'token:kiosk', at: 1500, note: null });
      await repo.addTick({ room: 'b2', item: 'sandbags', done: true, by: 'duty', at: 1200, note: null });
      expect(await repo.currentTicks('b1')).toEqual([
        { room: 'b1', item: 'boards', done: true, by: 'token:kiosk', at: 1500, note: null },
        { room: 'b1', item: 'sandbags', done: false, by: 'chief', at: 2000, note: null },
      ]);
      expect((await repo.tickLog('b1')).map((t) => [t.item, t.by, t.done, t.clearedAt])).toEqual([
        ['sandbags', 'duty', true, null],
        ['sandbags', 'chief', false, null],
        ['boards', 'token:kiosk', true, null],
      ]);
    });

    it('a storm end clears the room\'s ticks (kept in the log), not another room\'s, and later ticks count again', async () => {
      const { repo } = await fresh();
      await repo.addTick({ room: 'b1', item: 'sandbags', done: true, by: 'duty', at: 1000, note: null });
      await repo.addTick({ room: 'b2', item: 'sandbags', done: true, by: 'duty', at: 1000, note: null });
      expect(await repo.clearTicks('b1', 5000)).toBe(1);
      expect(await repo.clearTicks('b1', 6000)).toBe(0);
      expect(await repo.currentTicks('b1')).toEqual([]);
      expect(await repo.currentTicks('b2')).toHaveLength(1);
      await repo.addTick({ room: 'b1', item: 'sandbags', done: true, by: 'night', at: 7000, note: 'next storm' });
      expect(await repo.currentTicks('b1')).toEqual([{ room: 'b1', item: 'sandbags', done: true, by: 'night', at: 7000, note: 'next storm' }]);
      expect((await repo.tickLog('b1')).map((t) => t.clearedAt)).toEqual([5000, null]);
    });

    it('keeps each item\'s state and since when across a restart; saving again replaces it', async () => {
      const first = await fresh();
      await first.repo.saveItemState({ room: 'b1', item: 'pumps-tested', state: 'flagged', since: 100 });
      await first.repo.saveItemState({ room: 'b1', item: 'sensors-fresh', state: 'ok', since: 100 });
      await first.repo.saveItemState({ room: 'b1', item: 'pumps-tested', state: 'ok', since: 900 });
      await first.repo.addTick({ room: 'b1', item: 'sandbags', done: true, by: 'duty', at: 1000, note: null });
      const again = await first.reopen();
      open.push(again);
      await again.repo.migrate();
      expect(await again.repo.itemStates()).toEqual([
        { room: 'b1', item: 'pumps-tested', state: 'ok', since: 900 },
        { room: 'b1', item: 'sensors-fresh', state: 'ok', since: 100 },
      ]);
      expect(await again.repo.currentTicks('b1')).toHaveLength(1);
    });
  });
}
