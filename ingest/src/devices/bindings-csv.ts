/**
 * The bindings import file (POST /api/devices/bindings.csv): CSV as RFC 4180 describes it (commas,
 * double-quoted fields with "" for a quote, CRLF or LF), UTF-8 with or without the byte-order mark
 * spreadsheets write. The first row names the columns:
 *
 *   deviceId,devEui,codec[,params][,<param name>...]
 *
 * `params` holds a JSON object; any other column is one parameter, so a spreadsheet can have a
 * `mountMm` column instead of JSON in a cell (numbers become numbers, empty cells are left out).
 */

export interface CsvRow {
  /** 1-based line of the file, as a spreadsheet numbers it (the header is row 1). */
  row: number;
  deviceId: string;
  devEui: string;
  codec: string;
  params: Record<string, unknown>;
}

export type CsvParse = { ok: true; rows: CsvRow[]; problems: Array<{ row: number; error: string }> } | { ok: false; error: string };

export const MAX_IMPORT_ROWS = 10_000;

/** Splits CSV text into records of fields, keeping each record's starting line number. */
export function splitCsv(text: string): { records: Array<{ line: number; fields: string[] }> } | { error: string } {
  const records: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let fieldStarted = false;
  const s = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const endRecord = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else if (c === '"') {
      return { error: `row ${line}: a quote inside an unquoted field; quote the whole field and write "" for a quote` };
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) return { error: `row ${recordLine}: a quoted field is not closed` };
  if (field !== '' || fields.length > 0) endRecord();
  return { records };
}

const COLUMNS: Record<string, 'deviceId' | 'devEui' | 'codec' | 'params'> = {
  deviceid: 'deviceId',
  device_id: 'deviceId',
  device: 'deviceId',
  deveui: 'devEui',
  dev_eui: 'devEui',
  codec: 'codec',
  params: 'params',
};

/** A cell given as a parameter column: a number when it reads as one, else the text. */
function cellValue(text: string): unknown {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

export function parseBindingsCsv(text: string): CsvParse {
  const split = splitCsv(text);
  if ('error' in split) return { ok: false, error: split.error };
  const [header, ...data] = split.records;
  if (!header) return { ok: false, error: 'the file is empty; the first row must name the columns deviceId,devEui,codec' };
  if (data.length > MAX_IMPORT_ROWS) return { ok: false, error: `${data.length} rows; at most ${MAX_IMPORT_ROWS} in one import` };
  const names = header.fields.map((f) => f.trim());
  const role = names.map((n) => COLUMNS[n.toLowerCase()]);
  const missing = (['deviceId', 'devEui', 'codec'] as const).filter((c) => !role.includes(c));
  if (missing.length > 0) return { ok: false, error: `row 1: the header needs the columns ${missing.join(', ')} (found ${names.join(', ') || 'none'})` };
  const seen = new Set<string>();
  for (const n of names) {
    const key = COLUMNS[n.toLowerCase()] ?? n;
    if (key === '') return { ok: false, error: 'row 1: a column has no name' };
    if (seen.has(key)) return { ok: false, error: `row 1: column "${n}" appears twice` };
    seen.add(key);
  }
  const rows: CsvRow[] = [];
  const problems: Array<{ row: number; error: string }> = [];
  for (const rec of data) {
    if (rec.fields.length !== names.length) {
      problems.push({ row: rec.line, error: `${rec.fields.length} fields, the header has ${names.length}` });
      continue;
    }
    const row: CsvRow = { row: rec.line, deviceId: '', devEui: '', codec: '', params: {} };
    let problem: string | null = null;
    rec.fields.forEach((value, i) => {
      const r = role[i];
      if (r === 'params') {
        if (value.trim() === '') return;
        try {
          const parsed: unknown = JSON.parse(value);
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problem = 'params: must be a JSON object, e.g. {"mountMm": 1500}';
          else Object.assign(row.params, parsed);
        } catch {
          problem = 'params: not valid JSON; write a JSON object such as {"mountMm": 1500}';
        }
      } else if (r !== undefined) {
        row[r] = value.trim();
      } else if (value.trim() !== '') {
        row.params[names[i]!] = cellValue(value);
      }
    });
    if (problem) problems.push({ row: rec.line, error: problem });
    else rows.push(row);
  }
  return { ok: true, rows, problems };
}
