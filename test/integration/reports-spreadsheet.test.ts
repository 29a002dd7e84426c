/**
 * ParkOps' CSV opened the way a spreadsheet opens it. ParkOps runs as `npm start` runs it; a device
 * plants gate passes such as `=HYPERLINK("http://x","y")` through MQTT; the overstay and zone exports are
 * downloaded as a manager's browser does (lang=zh-CN) and opened by LibreOffice Calc, headless
 * (`soffice --headless --convert-to fods`, Debian's libreoffice-calc-nogui), with its CSV import set to
 * EVALUATE formulas (filter token 13). The flat ODS it writes shows each cell as Calc holds it: a
 * formula cell carries `table:formula`. Checked: every planted pass arrives as text, not a formula; the
 * Chinese headers and zone names survive; the BOM is read as a BOM, not as a character. A control run
 * on the same file with the guard taken out gives a formula cell, so the import really evaluates
 * formulas and this test can fail.
 *
 * LibreOffice 7.4's filter options have no "detect the charset by the BOM": the charset token is
 * obeyed (measured: the same file read as Windows-1252, or in a C locale, turns the BOM into "ï»¿" and
 * the Chinese into mojibake). So the import says UTF-8 (token 3 = 76), as Calc's import dialog does for
 * a file with a UTF-8 BOM, and the BOM's own job (Excel) is checked byte for byte.
 *
 * The same ParkOps then raises a real flood incident (both level sensors over critical), and the
 * monthly PDF lists it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { connect, publish } from '../support/mqtt.ts';

const PASSES = ['=HYPERLINK("http://x","y")', '+SUM(1,2)', '-1+2', '@SUM(1,2)', '=1+1'];
const HOUR = 3_600_000;

/** Cells of a flat ODS, row by row: the text Calc shows and the formula, if it holds one. */
interface Cell {
  text: string;
  formula: string | null;
  type: string | null;
}
function fodsRows(xml: string): Cell[][] {
  const unescape = (s: string): string => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const rows: Cell[][] = [];
  for (const row of xml.matchAll(/<table:table-row\b[^>]*>([\s\S]*?)<\/table:table-row>/g)) {
    const cells: Cell[] = [];
    for (const c of row[1]!.matchAll(/<table:table-cell\b([^>]*?)(?:\/>|>([\s\S]*?)<\/table:table-cell>)/g)) {
      const attrs = c[1]!;
      const repeat = Number(/table:number-columns-repeated="(\d+)"/.exec(attrs)?.[1] ?? 1);
      const text = unescape([...(c[2] ?? '').matchAll(/<text:p>([\s\S]*?)<\/text:p>/g)].map((p) => p[1]!.replace(/<[^>]+>/g, '')).join('\n'));
      const cell = { text, formula: ((f) => (f === undefined ? null : unescape(f)))(/table:formula="([^"]*)"/.exec(attrs)?.[1]), type: /office:value-type="([^"]*)"/.exec(attrs)?.[1] ?? null };
      for (let i = 0; i < Math.min(repeat, 64); i++) cells.push(cell);
    }
    rows.push(cells);
  }
  return rows;
}

describe('CSV opened as a spreadsheet (LibreOffice Calc, formulas evaluated)', () => {
  let sys: ParkOpsProcess;
  let cookie: string;
  let device: MqttClient;
  let dir: string;
  const now = Date.now();

  // Opens one CSV file in Calc with formulas evaluated, and returns its cells.
  function openInCalc(name: string, csv: Buffer): Cell[][] {
    const file = join(dir, `${name}.csv`);
    writeFileSync(file, csv);
    // Tokens: comma, double quote, UTF-8 (76), from line 1, no column formats, Chinese (PRC) 2052,
    // quoted fields not forced to text, no special-number detection, (three export-only tokens),
    // sheet -1, EVALUATE FORMULAS true.
    execFileSync(
      'soffice',
      [`-env:UserInstallation=file://${join(dir, 'lo-profile')}`, '--headless', '--infilter=CSV:44,34,76,1,,2052,false,false,false,false,false,-1,true', '--convert-to', 'fods', '--outdir', join(dir, 'out'), file],
      { stdio: 'pipe', timeout: 120_000 },
    );
    return fodsRows(readFileSync(join(dir, 'out', `${name}.fods`), 'utf8'));
  }

  async function download(path: string): Promise<Buffer> {
    const res = await fetch(`${sys.baseUrl}${path}`, { headers: { cookie } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    return Buffer.from(await res.arrayBuffer());
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parkops-calc-'));
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false' } });
    cookie = await sys.adminCookie();
    device = await connect(sys.mqttUrl);
    // Cars that came in 13 to 17 hours ago and have not left: overstays past the 12 h limit.
    for (const [i, pass] of PASSES.entries()) await publish(device, 'park/parking/gates/north-in', { event: 'entry', pass, ts: now - (13 + i) * HOUR });
  });

  afterAll(async () => {
    await device?.endAsync();
    await sys?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const range = (): string => `from=${encodeURIComponent(new Date(now - 2 * 86_400_000).toISOString())}&to=${encodeURIComponent(new Date(now + 60_000).toISOString())}`;

  it('a planted =HYPERLINK pass (and +, -, @) arrives as text, with Chinese headers, through Calc', async () => {
    let csv: Buffer = Buffer.alloc(0);
    await expect
      .poll(async () => {
        csv = await download(`/api/reports/parking?${range()}&format=csv&table=overstays&lang=zh-CN`);
        return csv.toString('utf8').split('\r\n').length - 2;
      }, { timeout: 15_000 })
      .toBe(PASSES.length);
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = openInCalc('overstays', csv);
    // The BOM is consumed as a BOM: the first header cell is the word itself.
    expect(rows[0]!.slice(0, 8).map((c) => c.text)).toEqual(['通行证', '入场闸口', '入场时间（UTC）', '入场时间（当地）', '出场时间（UTC）', '出场时间（当地）', '小时数', '仍在场内']);
    const passCells = rows.slice(1).map((r) => r[0]!);
    expect(passCells).toHaveLength(PASSES.length);
    for (const c of passCells) {
      expect(c.formula, c.text).toBeNull();
      expect(c.type).toBe('string');
    }
    // Longest stay first: the passes in the order they came in, each shown as text behind its guard.
    expect(passCells.map((c) => c.text)).toEqual([...PASSES].reverse().map((p) => `'${p}`));
    expect(rows.slice(1).map((r) => r[7]!.text)).toEqual(PASSES.map(() => '是'));
  });

  it('control: the same file without the guard gives Calc a live formula, so the import evaluates formulas', async () => {
    const csv = await download(`/api/reports/parking?${range()}&format=csv&table=overstays&lang=zh-CN`);
    const unguarded = Buffer.from(csv.toString('utf8').replace(/(^|\r\n)"'=/g, '$1"='), 'utf8');
    const rows = openInCalc('unguarded', unguarded);
    const hyperlink = rows.slice(1).map((r) => r[0]!).find((c) => c.formula?.includes('HYPERLINK'));
    expect(hyperlink?.formula).toBe('of:=HYPERLINK("http://x";"y")');
    expect(hyperlink?.text).toBe('y');
  });

  it('Chinese names survive: the zone table in Calc', async () => {
    const rows = openInCalc('zones', await download(`/api/reports/parking?${range()}&format=csv&table=zones&lang=zh-CN`));
    expect(rows[0]!.slice(0, 3).map((c) => c.text)).toEqual(['分区', '名称', '车位数']);
    expect(rows.slice(1).map((r) => r[1]!.text)).toEqual(['A区（北入口）', 'B区（南入口）', 'C区', 'D区', 'E区（远端）']);
    expect(rows[1]![2]).toMatchObject({ text: '100', type: 'float' });
  });

  it('the monthly PDF lists the flood incident the alert engine opened', async () => {
    for (let i = 0; i < 3; i++) {
      const ts = Date.now();
      await publish(device, 'park/flood/b1-power/levels/L1', { mm: 760, ts });
      await publish(device, 'park/flood/b1-power/levels/L2', { mm: 752, ts });
    }
    await expect.poll(async () => ((await (await fetch(`${sys.baseUrl}/api/incidents`, { headers: { cookie } })).json()) as unknown[]).length, { timeout: 15_000 }).toBeGreaterThan(0);
    const res = await fetch(`${sys.baseUrl}/api/reports/monthly.pdf?lang=zh-CN`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const file = join(dir, 'monthly.pdf');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const text = execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    expect(text).toMatch(/创启大厦B1配电室\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+仍未结束\s+\d+ ?分\s+760 mm\s+\d+/);
  });
});
