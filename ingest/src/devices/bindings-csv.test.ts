import { describe, expect, it } from 'vitest';
import { parseBindingsCsv, splitCsv } from './bindings-csv.ts';

describe('bindings CSV', () => {
  it('reads quoted fields, doubled quotes, CRLF and a byte-order mark, numbering rows as a spreadsheet does', () => {
    const text = '\uFEFFdeviceId,devEui,codec,params\r\nL1,24e124000000a001,milesight-em310-udl,"{""mountMm"": 1500}"\r\n\r\nE-001,24E124000000E001,nwave-nps,\r\n';
    const r = parseBindingsCsv(text);
    expect(r).toEqual({
      ok: true,
      problems: [],
      rows: [
        { row: 2, deviceId: 'L1', devEui: '24e124000000a001', codec: 'milesight-em310-udl', params: { mountMm: 1500 } },
        { row: 4, deviceId: 'E-001', devEui: '24E124000000E001', codec: 'nwave-nps', params: {} },
      ],
    });
  });

  it('takes other columns as parameters', () => {
    const r = parseBindingsCsv('device_id,dev_eui,codec,mountMm,line\nL1,24E124000000A001,dragino-ldds75,1200,\ngym,24E1240000000133,milesight-vs133,,2\n');
    expect(r.ok && r.rows.map((x) => x.params)).toEqual([{ mountMm: 1200 }, { line: 2 }]);
  });

  it('keeps a line count across quoted line breaks', () => {
    const s = splitCsv('a,b\n"x\ny",z\nlast,row\n');
    expect('records' in s && s.records.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('names the row of each problem', () => {
    const r = parseBindingsCsv('deviceId,devEui,codec,params\nA-001,1,nwave-nps\nA-002,2,nwave-nps,{bad\nA-003,3,nwave-nps,[1]\n');
    expect(r).toMatchObject({ ok: true, rows: [], problems: [{ row: 2, error: '3 fields, the header has 4' }, { row: 3, error: expect.stringMatching(/^params: not valid JSON/) }, { row: 4, error: expect.stringMatching(/^params: must be a JSON object/) }] });
  });

  it('refuses a file without the needed columns, or with a broken quote', () => {
    expect(parseBindingsCsv('device,eui\nA-001,x\n')).toEqual({ ok: false, error: expect.stringMatching(/^row 1: the header needs the columns devEui, codec/) });
    expect(parseBindingsCsv('')).toMatchObject({ ok: false });
    expect(parseBindingsCsv('deviceId,devEui,codec\nA-001,"x,nwave-nps\n')).toEqual({ ok: false, error: 'row 2: a quoted field is not closed' });
    expect(parseBindingsCsv('deviceId,devEui,codec\nA-001,x"y,nwave-nps\n')).toMatchObject({ ok: false, error: expect.stringMatching(/^row 2: a quote inside an unquoted field/) });
  });
});
