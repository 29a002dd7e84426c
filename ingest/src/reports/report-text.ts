/**
 * Words of the exports for people: CSV headers and cell words (weekdays, yes/no, pump roles) and the
 * monthly PDF's text, in English and Chinese. The dashboard passes its reader's language as
 * `lang=zh-CN|en`; without `lang` a CSV keeps the machine column names of docs/reports.md, which
 * scripts read.
 */
export const REPORT_LANGS = ['en', 'zh-CN'] as const;
export type ReportLang = (typeof REPORT_LANGS)[number];

/** A CSV column: its machine name (docs/reports.md) and its header for people. */
export interface Column {
  id: string;
  en: string;
  zh: string;
}

const col = (id: string, en: string, zh: string): Column => ({ id, en, zh });

/** Every column the report exports write, by machine name. */
export const COLUMNS = {
  t: col('t', 'Time (UTC)', '时间（UTC）'),
  local_time: col('local_time', 'Local time', '当地时间'),
  time_zone: col('time_zone', 'Time zone', '时区'),
  share_avg: col('avg', 'Average occupancy (share 0-1)', '平均占用率（0-1）'),
  share_max: col('max', 'Highest occupancy (share 0-1)', '最高占用率（0-1）'),
  people_avg: col('avg', 'Average people present', '平均在场人数'),
  people_max: col('max', 'Most people present', '最多在场人数'),
  date: col('date', 'Date (local)', '日期（当地）'),
  hour: col('hour', 'Hour (local)', '小时（当地）'),
  weekday: col('weekday', 'Weekday', '星期'),
  peak_at: col('peak_at', 'Peak at (UTC)', '峰值时间（UTC）'),
  peak_local: col('peak_local', 'Peak at (local)', '峰值时间（当地）'),
  sessions: col('sessions', 'Sessions', '停车次数'),
  turnover: col('turnover', 'Turnover (sessions per bay per day)', '周转率（每车位每天次数）'),
  avg_dwell_min: col('avg_dwell_min', 'Average stay (min)', '平均停留（分钟）'),
  median_dwell_min: col('median_dwell_min', 'Median stay (min)', '停留中位数（分钟）'),
  overstays: col('overstays', 'Overstays', '超时停车'),
  entries: col('entries', 'Gate entries', '闸口入场'),
  exits: col('exits', 'Gate exits', '闸口出场'),
  sensor_arrivals: col('sensor_arrivals', 'Arrivals seen by bay sensors', '车位传感器检测到的到达'),
  drift_pct: col('drift_pct', 'Gate vs sensor difference (%)', '闸口与传感器差异（%）'),
  drift: col('drift', 'Disagreement flagged', '差异告警'),
  zone: col('zone', 'Zone', '分区'),
  name: col('name', 'Name', '名称'),
  bays: col('bays', 'Bays', '车位数'),
  pass: col('pass', 'Pass', '通行证'),
  gate_in: col('gate_in', 'Entry gate', '入场闸口'),
  entry_at: col('entry_at', 'Entry (UTC)', '入场时间（UTC）'),
  entry_local: col('entry_local', 'Entry (local)', '入场时间（当地）'),
  exit_at: col('exit_at', 'Exit (UTC)', '出场时间（UTC）'),
  exit_local: col('exit_local', 'Exit (local)', '出场时间（当地）'),
  hours: col('hours', 'Hours', '小时数'),
  open: col('open', 'Still inside', '仍在场内'),
  venue: col('venue', 'Venue', '场馆'),
  venue_name: col('venue_name', 'Venue name', '场馆名称'),
  visitors: col('visitors', 'Visitors', '访客人数'),
  room: col('room', 'Room', '机房'),
  room_name: col('room_name', 'Room name', '机房名称'),
  sensor: col('sensor', 'Level sensor', '水位传感器'),
  max_mm: col('max_mm', 'Highest level (mm)', '最高水位（毫米）'),
  max_at: col('max_at', 'Highest at (UTC)', '最高水位时间（UTC）'),
  max_local: col('max_local', 'Highest at (local)', '最高水位时间（当地）'),
  avg_mm: col('avg_mm', 'Average level (mm)', '平均水位（毫米）'),
  max_level_mm: col('max_level_mm', 'Highest level (mm)', '最高水位（毫米）'),
  max_level_at: col('max_level_at', 'Highest at (UTC)', '最高水位时间（UTC）'),
  max_level_local: col('max_level_local', 'Highest at (local)', '最高水位时间（当地）'),
  above_warn_min: col('above_warn_min', 'Minutes at or above warning', '达到预警线分钟数'),
  above_alarm_min: col('above_alarm_min', 'Minutes at or above alarm', '达到警报线分钟数'),
  above_critical_min: col('above_critical_min', 'Minutes at or above critical', '达到危急线分钟数'),
  pump: col('pump', 'Pump', '水泵'),
  role: col('role', 'Role', '角色'),
  run_hours: col('run_hours', 'Run hours', '运行小时'),
  starts: col('starts', 'Starts', '启动次数'),
  starts_per_day: col('starts_per_day', 'Starts per day', '每天启动次数'),
} satisfies Record<string, Column>;

/** A per-pump column of the flood days table (`P1_run_hours`, ...). */
export function pumpColumn(pumpId: string, what: 'run_hours' | 'starts'): Column {
  return what === 'run_hours' ? col(`${pumpId}_run_hours`, `${pumpId} run hours`, `${pumpId} 运行小时`) : col(`${pumpId}_starts`, `${pumpId} starts`, `${pumpId} 启动次数`);
}

/** Header row: machine names without `lang`, else the reader's words. */
export function header(columns: readonly Column[], lang: ReportLang | null): string[] {
  return columns.map((c) => (lang === null ? c.id : lang === 'zh-CN' ? c.zh : c.en));
}

const WEEKDAYS: Record<ReportLang, string[]> = {
  en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
  'zh-CN': ['周一', '周二', '周三', '周四', '周五', '周六', '周日'],
};

/** Cell words: machine values without `lang`, else the reader's. */
export interface CellWords {
  weekday(i: number, machine: string): string;
  yesNo(v: boolean): string | boolean;
  role(r: 'duty' | 'standby'): string;
  name(x: { name: string; nameZh?: string | undefined }): string;
}

export function cellWords(lang: ReportLang | null): CellWords {
  return {
    weekday: (i, machine) => (lang === null ? machine : WEEKDAYS[lang][i]!),
    yesNo: (v) => (lang === null ? v : lang === 'zh-CN' ? (v ? '是' : '否') : v ? 'yes' : 'no'),
    role: (r) => (lang === null ? r : lang === 'zh-CN' ? (r === 'duty' ? '主泵' : '备用泵') : r === 'duty' ? 'duty' : 'standby'),
    name: (x) => (lang === 'zh-CN' && x.nameZh ? x.nameZh : x.name),
  };
}

/** The name in the reader's language (Chinese when the site file gives one). */
export function localName(x: { name: string; nameZh?: string | undefined }, lang: ReportLang): string {
  return lang === 'zh-CN' && x.nameZh ? x.nameZh : x.name;
}
