/**
 * `GET /api/flood` and the flood part of `/api/stream`: the raw newest values from the live state, and
 * everything judged (the room's level and band, each device's freshness and status) from the alert
 * engine's room judge, so the API shows exactly what the alerts act on (docs/api.md, HTTP API).
 */
import type { FloodResponse, FloodRoomView, LevelView, PumpView, RoomStormView } from '@parkops/contract/api.ts';
import type { LiveState } from '../live-state.ts';
import type { FloodRoom, Site } from '@parkops/contract/site/index.ts';
import type { DeviceJudgement, RoomJudgement } from './room-judge.ts';

/** Where the judgement comes from: the alert engine. */
export interface FloodJudge {
  floodJudgement(roomId: string): RoomJudgement | undefined;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** Before the engine has judged a device (start-up): not fresh, status unknown. */
const UNJUDGED: Omit<DeviceJudgement, 'id'> = { stale: true, online: null, lastSeen: null };

export class FloodView {
  constructor(
    private readonly live: LiveState,
    private readonly site: Site,
    private readonly judge: FloodJudge,
    /** Storm mode per room, from the warnings module (docs/warnings.md). */
    private readonly stormMode: (roomId: string) => boolean = () => false,
    /** Storm mode's view per room (the storm module: the rules in use, the readiness checklist). */
    private readonly storm: (roomId: string) => RoomStormView | undefined = () => undefined,
  ) {}

  rooms(): FloodResponse {
    return { rooms: this.site.rooms.map((r) => this.view(r, this.judge.floodJudgement(r.id))) };
  }

  room(roomId: string): FloodRoomView | undefined {
    const r = this.site.room(roomId);
    return r ? this.view(r, this.judge.floodJudgement(r.id)) : undefined;
  }

  /** One device of a room (a level sensor or a pump), as the room view shows it. */
  device(roomId: string, deviceId: string): { kind: 'level'; view: LevelView } | { kind: 'pump'; view: PumpView } | undefined {
    const r = this.site.room(roomId);
    if (!r) return undefined;
    const j = this.judge.floodJudgement(r.id);
    const l = r.levels.find((x) => x.id === deviceId);
    if (l) return { kind: 'level', view: this.levelView(r, l.id, j) };
    const p = r.pumps.find((x) => x.id === deviceId);
    if (p) return { kind: 'pump', view: this.pumpView(r, p.id, j) };
    return undefined;
  }

  private view(r: FloodRoom, j: RoomJudgement | undefined): FloodRoomView {
    const view: FloodRoomView = {
      id: r.id,
      name: r.name,
      nameZh: r.nameZh,
      thresholds: { warnMm: r.bands.warnMm, alarmMm: r.bands.alarmMm, criticalMm: r.bands.criticalMm, floorMm: r.bands.floorMm },
      level: j?.level ?? null,
      band: j?.band ?? 'normal',
      levels: r.levels.map((l) => this.levelView(r, l.id, j)),
      pumps: r.pumps.map((p) => this.pumpView(r, p.id, j)),
      stormMode: this.stormMode(r.id),
    };
    const storm = this.storm(r.id);
    return storm ? { ...view, storm } : view;
  }

  private levelView(r: FloodRoom, id: string, j: RoomJudgement | undefined): LevelView {
    const s = r.levels.find((l) => l.id === id)!;
    const v = this.live.levelValue(r.id, id);
    const d = j?.levels.find((x) => x.id === id) ?? { id, ...UNJUDGED };
    return { id, name: s.name, nameZh: s.nameZh, mm: v?.mm ?? null, ts: iso(v?.ts), changedAt: iso(v?.changedAt), stale: d.stale, online: d.online, lastSeen: d.lastSeen };
  }

  private pumpView(r: FloodRoom, id: string, j: RoomJudgement | undefined): PumpView {
    const p = r.pumps.find((x) => x.id === id)!;
    const v = this.live.pumpValue(r.id, id);
    const d = j?.pumps.find((x) => x.id === id) ?? { id, ...UNJUDGED };
    return { id, name: p.name, nameZh: p.nameZh, role: p.role, running: v?.running ?? null, amps: v?.amps ?? null, ts: iso(v?.ts), changedAt: iso(v?.changedAt), stale: d.stale, online: d.online, lastSeen: d.lastSeen };
  }
}
