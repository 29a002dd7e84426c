import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Topics } from './topics.ts';

const own = (t: Topics, topic: string): boolean => {
  const k = t.parse(topic).kind;
  return k === 'alert' || k === 'rejected' || k === 'ops';
};

describe('Topics.isOwn', () => {
  it('says the same as parse() for the topics ParkOps publishes and their near misses', () => {
    const t = new Topics('park');
    const cases: Array<[string, boolean]> = [
      ['park/alerts/A-1', true],
      ['park/alerts/', true],
      ['park/alerts/A-1/x', false],
      ['park/alerts', false],
      ['park/rejected', true],
      ['park/rejected/x', false],
      ['park/ops', true],
      ['park/ops/status', true],
      ['park/ops/a/b', true],
      ['park/opsx', false],
      ['parkx/ops/status', false],
      ['park', false],
      ['park/', false],
      ['park/parking/bays/A-001', false],
      ['other/alerts/A-1', false],
    ];
    for (const [topic, expected] of cases) {
      expect(t.isOwn(topic), topic).toBe(expected);
      expect(own(t, topic), topic).toBe(expected);
    }
  });

  it('agrees with parse() on arbitrary topics, for one-level and multi-level prefixes', () => {
    const level = fc.oneof(fc.constantFrom('alerts', 'rejected', 'ops', 'parking', 'bays', 'park', 'site', 'x', ''), fc.string({ maxLength: 6 }));
    const topic = fc.array(level, { minLength: 0, maxLength: 5 }).map((ls) => ls.join('/'));
    fc.assert(
      fc.property(fc.constantFrom('park', 'site/a'), topic, fc.boolean(), (prefix, rest, withPrefix) => {
        const t = new Topics(prefix);
        const full = withPrefix ? `${prefix}/${rest}` : rest;
        expect(t.isOwn(full)).toBe(own(t, full));
      }),
      { numRuns: 5000 },
    );
  });
});
