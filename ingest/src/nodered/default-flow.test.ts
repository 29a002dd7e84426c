import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { FORMAT_FUNCTION, defaultFlow, nodeBox, writeDefaultFlowIfMissing } from './default-flow.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('default flow', () => {
  it('is written on first start only, never over an admin\'s flows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parkops-flow-'));
    dirs.push(dir);
    expect(writeDefaultFlowIfMissing(dir)).toBe(true);
    const file = join(dir, 'flows.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((JSON.parse(readFileSync(file, 'utf8')) as { type: string }[]).map((n) => n.type)).toEqual(['tab', 'comment', 'parkops-alert', 'function', 'parkops-notify']);
    writeFileSync(file, '[]');
    expect(writeDefaultFlowIfMissing(dir)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('[]');
  });

  it('lays its nodes out so that no two boxes overlap (20 px apart at least), on the 20 px grid', () => {
    const boxes = defaultFlow()
      .filter((n) => n.type !== 'tab')
      .map((n) => {
        const { w, h } = nodeBox(String(n.name));
        const x = Number(n.x);
        const y = Number(n.y);
        expect(x - w / 2, String(n.id)).toBeGreaterThanOrEqual(0);
        expect((x - w / 2) % 20, `${String(n.id)} left edge on the grid`).toBe(0);
        return { id: String(n.id), left: x - w / 2, right: x + w / 2, top: y - h / 2, bottom: y + h / 2 };
      });
    const overlaps: string[] = [];
    for (const a of boxes) {
      for (const b of boxes) {
        if (a.id >= b.id) continue;
        const apart = a.right + 20 <= b.left || b.right + 20 <= a.left || a.bottom + 20 <= b.top || b.bottom + 20 <= a.top;
        if (!apart) overlaps.push(`${a.id} / ${b.id}`);
      }
    }
    expect(overlaps).toEqual([]);
  });

  it('wires alert -> format -> notify', () => {
    const byId = new Map(defaultFlow().map((n) => [n.id, n]));
    expect(byId.get('parkops-default-alerts')?.wires).toEqual([['parkops-default-format']]);
    expect(byId.get('parkops-default-format')?.wires).toEqual([['parkops-default-notify']]);
  });

  it('formats for each robot in its function node', () => {
    const run = (format: string) => {
      const msg = { format, change: 'opened', alert: { id: 'a1' }, text: { title: 'T', markdown: 'M', zh: 'Z', en: 'E' } };
      return (runInNewContext(`(function (msg) {\n${FORMAT_FUNCTION}\n})(msg)`, { msg }) as { payload: unknown }).payload;
    };
    expect(run('wecom')).toEqual({ msgtype: 'markdown', markdown: { content: 'M' } });
    expect(run('dingtalk')).toEqual({ msgtype: 'markdown', markdown: { title: 'T', text: 'M' } });
    expect(run('json')).toEqual({ source: 'parkops', event: 'alert.changed', change: 'opened', alert: { id: 'a1' }, text: { zh: 'Z', en: 'E' } });
  });
});
