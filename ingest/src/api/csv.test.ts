import { describe, expect, it } from 'vitest';
import { BOM, csvField, toCsv } from './csv.ts';

describe('CSV', () => {
  it('is RFC 4180 with CRLF and a UTF-8 byte order mark, so Excel reads Chinese as UTF-8', () => {
    const text = toCsv(['room', 'note'], [['创启大厦B1配电室', 'pumps "P1", P2\nchecked'], ['b1', null]]);
    expect(text.startsWith(BOM)).toBe(true);
    expect(text.slice(1)).toBe('room,note\r\n创启大厦B1配电室,"pumps ""P1"", P2\nchecked"\r\nb1,\r\n');
    expect(Buffer.from(text, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });

  it('turns text a spreadsheet would run as a formula into text, and leaves numbers numbers', () => {
    expect(csvField('=HYPERLINK("http://evil.example","click")')).toBe(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    for (const s of ['+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\r=1']) expect(csvField(s).replace(/^"/, '').startsWith("'")).toBe(true);
    expect(csvField(-12.5)).toBe('-12.5');
    expect(csvField(0)).toBe('0');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(true)).toBe('true');
    expect(csvField('A-001')).toBe('A-001');
  });
});
