import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { FORMAT_FUNCTION, defaultFlow, writeDefaultFlowIfMissing } from './default-flow.ts';

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
