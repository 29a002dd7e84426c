/**
 * The device registry (docs/api.md, LoRaWAN): bindings of network-server devices (by DevEUI) to
 * ParkOps devices with a codec, the DevEUIs heard without one, and what uplinks say about each device
 * (battery, RSSI, SNR). It is also the ingest's uplink translator: uplink -> binding -> codec -> a
 * section-1 topic and payload, which the ordinary decoder validates, so uplinks are stored, deduplicated
 * and rejected exactly like a device's own MQTT messages.
 *
 * Bindings live in memory and in the registry's tables; a change through the API is used by the next
 * uplink (no restart). Everything a binding change writes is audited.
 */
import { rejection, type BindingView, type BindingsImportResult, type CodecView, type DeviceTopic, type DeviceView, type FloodResponse, type Topics, type UnboundDeviceView, type UplinkTopics } from '@parkops/contract/index.ts';
import type { Translation, UplinkTranslator } from '../ingest.ts';
import type { LiveState } from '../live-state.ts';
import type { Logger } from '../log.ts';
import { systemClock, type Clock, type Module } from '../module.ts';
import type { DeviceRef, Site } from '@parkops/contract/site/index.ts';
import { parseBindingsCsv } from './bindings-csv.ts';
import { CODECS, type AnyCodec, type CounterState, type CounterStore, type Telemetry } from './codecs/index.ts';
import { DevEuiTaken, type BindingRecord, type CounterRecord, type DevicesRepository, type TelemetryRecord } from './repository.ts';
import type { Tx } from '../db/tx.ts';
import { decodeBase64, normalizeDevEui, parseUplink, type Uplink } from './uplinks.ts';

export class DevicesError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
    /** for an import: every bad row */
    readonly rows?: Array<{ row: number; error: string }>,
  ) {
    super(message);
  }
}

export interface RegistryDeps {
  /** where bindings, telemetry and counters are kept (the registry's own tables) */
  repository: DevicesRepository;
  /**
   * Other processes change the same bindings (several processes on PostgreSQL): the registry reads
   * them again before it changes one, and when told (follow()).
   */
  shared?: boolean;
  site: Site;
  topics: Topics;
  uplinkTopics: UplinkTopics;
  live: LiveState;
  /** Flood devices as the room judge sees them (freshness from receipt time); without it they show as never heard. */
  flood?: { rooms(): FloodResponse };
  log: Logger;
  /** the auth module's audit log */
  audit: (entry: { actor: string; action: string; target?: string; ip?: string; detail?: object }) => void;
  clock?: Clock;
}

export interface BindingInput {
  devEui?: unknown;
  codec?: unknown;
  params?: unknown;
}

interface Resolved {
  ref: DeviceRef;
  devEui: string;
  codec: AnyCodec;
  params: Record<string, unknown>;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const TELEMETRY_PERSIST_MS = 60_000;
const sameParams = (a: Record<string, unknown>, b: Record<string, unknown>): boolean => JSON.stringify(a) === JSON.stringify(b);

function deviceTopic(ref: DeviceRef): DeviceTopic {
  switch (ref.kind) {
    case 'bay':
      return { kind: 'bay', bayId: ref.id };
    case 'gate':
      return { kind: 'gate', gateId: ref.id };
    case 'level':
      return { kind: 'level', roomId: ref.parent!, sensorId: ref.id };
    case 'pump':
      return { kind: 'pump', roomId: ref.parent!, pumpId: ref.id };
    case 'venue':
      return { kind: 'venue', venueId: ref.id };
  }
}

export class DeviceRegistry implements Module, UplinkTranslator {
  readonly name = 'devices';
  private readonly repo: DevicesRepository;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly byDevice = new Map<string, BindingRecord>();
  private readonly byEui = new Map<string, BindingRecord>();
  /** by device id */
  private readonly telemetry = new Map<string, TelemetryRecord>();
  /** by `${devEui}/${key}` */
  private readonly counters = new Map<string, CounterState>();
  /** what the telemetry table holds per device */
  private readonly telemetryWritten = new Map<string, TelemetryRecord>();
  private readonly unboundLogged = new Set<string>();

  constructor(private readonly deps: RegistryDeps) {
    this.repo = deps.repository;
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log.child({ module: 'devices' });
  }

  async start(): Promise<void> {
    await this.reload();
    this.log.debug({ bindings: this.byDevice.size }, 'device registry loaded');
  }

  /**
   * Everything again from storage: bindings, telemetry and counter totals. For a process that is about
   * to take uplinks (a new leader) or one that does not take them (a standby). Not while uplinks are
   * being translated: the counters in memory may be ahead of the stored ones until their batch commits.
   */
  async reload(): Promise<void> {
    const [bindings, telemetry, counters] = await Promise.all([this.repo.bindings(), this.repo.telemetry(), this.repo.counters()]);
    this.byDevice.clear();
    this.byEui.clear();
    for (const b of bindings) {
      this.byDevice.set(b.deviceId, b);
      this.byEui.set(b.devEui, b);
      if (!this.deps.site.device(b.deviceId)) this.log.warn({ deviceId: b.deviceId, devEui: b.devEui }, 'a binding names a device that is not in the site file: its uplinks are rejected');
    }
    this.telemetry.clear();
    this.telemetryWritten.clear();
    for (const t of telemetry) {
      this.telemetry.set(t.deviceId, t);
      this.telemetryWritten.set(t.deviceId, t);
    }
    this.counters.clear();
    for (const c of counters) this.counters.set(`${c.devEui}/${c.key}`, { in: c.in, out: c.out, ts: c.ts });
  }

  /**
   * The bindings again from storage, after another process changed them: each binding that changed
   * or went is applied to memory as this process would apply its own change (its counters start
   * again, as the writer deleted the stored ones). Safe while uplinks are translated.
   */
  async followBindings(): Promise<void> {
    const stored = new Map((await this.repo.bindings()).map((b) => [b.deviceId, b]));
    const same = (a: BindingRecord, b: BindingRecord): boolean => a.devEui === b.devEui && a.codec === b.codec && sameParams(a.params, b.params);
    for (const [deviceId, mine] of [...this.byDevice]) {
      const theirs = stored.get(deviceId);
      if (theirs && same(mine, theirs)) continue;
      this.byDevice.delete(deviceId);
      if (this.byEui.get(mine.devEui) === mine) this.byEui.delete(mine.devEui);
      this.dropCounters(mine.devEui);
    }
    for (const [deviceId, theirs] of stored) {
      if (this.byDevice.has(deviceId)) continue;
      this.dropCounters(theirs.devEui);
      this.byDevice.set(deviceId, theirs);
      this.byEui.set(theirs.devEui, theirs);
      this.unboundLogged.delete(theirs.devEui);
    }
  }

  async stop(): Promise<void> {
    this.unboundLogged.clear();
  }

  // ------------------------------------------------------------------------------------------
  // Uplinks

  translate(topic: string, payload: Uint8Array, receivedAt: number): Translation | null {
    const where = this.deps.uplinkTopics.parse(topic);
    if (where === null) return null;
    try {
      const parsed = parseUplink(where, payload);
      if (!parsed.ok) return { kind: 'rejected', rejection: parsed.rejection };
      return this.translateUplink(parsed.uplink, receivedAt);
    } catch (err) {
      // Defence in depth, as in the section-1 decoder: a bug here rejects one uplink, it never stops ingest.
      this.log.error({ err, topic: topic.slice(0, 200) }, 'uplink translation failed');
      return { kind: 'rejected', rejection: rejection('undecodable_payload', `the uplink could not be translated (${err instanceof Error ? err.name : 'error'})`) };
    }
  }

  private translateUplink(up: Uplink, receivedAt: number): Translation {
    // A malformed uplink is refused whether its DevEUI is bound or not: the network server sent it wrong.
    let bytes: Uint8Array = new Uint8Array(0);
    if (up.data !== undefined) {
      const decoded = decodeBase64(up.data);
      if (decoded === null) return { kind: 'rejected', rejection: rejection('invalid_base64', `"${up.network === 'chirpstack' ? 'data' : 'uplink_message.frm_payload'}" is not base64: ${JSON.stringify(up.data.slice(0, 40))}`) };
      bytes = decoded;
    }
    const binding = this.byEui.get(up.devEui);
    if (!binding) {
      this.seenUnbound(up, receivedAt);
      return { kind: 'handled' };
    }
    const ref = this.deps.site.device(binding.deviceId);
    if (!ref) return { kind: 'rejected', rejection: rejection('unknown_id', `DevEUI ${up.devEui} is bound to device "${binding.deviceId}", which is not in the site configuration`) };
    const codec = CODECS.get(binding.codec);
    if (!codec) return { kind: 'rejected', rejection: rejection('undecodable_payload', `DevEUI ${up.devEui} is bound with codec "${binding.codec}", which this ParkOps does not have`) };
    const ts = up.time ?? receivedAt;
    const pending = new Map<string, CounterState>();
    const counters: CounterStore = {
      get: (key) => pending.get(key) ?? this.counters.get(`${up.devEui}/${key}`),
      set: (key, value) => void pending.set(key, value),
    };
    const result = codec.decode({ fPort: up.fPort, bytes, decoded: up.decoded, ts }, { kind: ref.kind, params: binding.params, counters });
    if (!result.ok) return { kind: 'rejected', rejection: result.rejection };

    // Counter totals move in memory now, so the next uplink of the same batch builds on them; `undo`
    // puts them back if this reading is rejected or its transaction fails.
    const before = [...pending.keys()].map((key) => [key, this.counters.get(`${up.devEui}/${key}`)] as const);
    for (const [key, value] of pending) this.counters.set(`${up.devEui}/${key}`, value);
    const counterRows: CounterRecord[] = [...pending].map(([key, value]) => ({ devEui: up.devEui, key, ...value }));

    if (result.fields === null) {
      const telemetryBefore = this.telemetry.get(binding.deviceId);
      const written = this.telemetryWritten.get(binding.deviceId);
      const toWrite = this.saveTelemetry(binding, up, ts, result.telemetry, false);
      // Memory moved already (the next uplink builds on it); a failed write puts it back.
      this.repo.saveUplinkState(counterRows, toWrite).catch((err: unknown) => {
        for (const [key, value] of before) this.restoreCounter(up.devEui, key, value);
        if (telemetryBefore) this.telemetry.set(binding.deviceId, telemetryBefore);
        else this.telemetry.delete(binding.deviceId);
        if (written) this.telemetryWritten.set(binding.deviceId, written);
        else this.telemetryWritten.delete(binding.deviceId);
        this.log.error({ err, devEui: up.devEui }, 'device telemetry write failed');
      });
      return { kind: 'handled' };
    }
    const body = JSON.stringify({ ...result.fields, ts });
    let telemetryBefore: TelemetryRecord | undefined;
    let committed = false;
    return {
      kind: 'reading',
      topic: this.deps.topics.of(deviceTopic(ref)),
      payload: Buffer.from(body),
      commit: (tx: Tx, stored: boolean) => {
        const counters = counterRows.length > 0 ? this.repo.participant.putCounters(tx, counterRows) : undefined;
        if (!stored) return counters;
        telemetryBefore = this.telemetry.get(binding.deviceId);
        committed = true;
        const toWrite = this.saveTelemetry(binding, up, ts, result.telemetry, true);
        if (!toWrite) return counters;
        if (counters instanceof Promise) return counters.then(() => this.repo.participant.putTelemetry(tx, toWrite));
        return this.repo.participant.putTelemetry(tx, toWrite);
      },
      undo: () => {
        for (const [key, value] of before) this.restoreCounter(up.devEui, key, value);
        if (committed) {
          if (telemetryBefore) this.telemetry.set(binding.deviceId, telemetryBefore);
          else this.telemetry.delete(binding.deviceId);
          // The transaction's writes are gone: write the next uplink's telemetry whatever it holds.
          this.telemetryWritten.delete(binding.deviceId);
        }
      },
    };
  }

  private restoreCounter(devEui: string, key: string, value: CounterState | undefined): void {
    if (value === undefined) this.counters.delete(`${devEui}/${key}`);
    else this.counters.set(`${devEui}/${key}`, value);
  }

  /**
   * Battery, RSSI, SNR of the newest uplink, in memory; an older one (late, redelivered) changes
   * nothing. Returns the record to write, or null when the table needs no write.
   */
  private saveTelemetry(binding: BindingRecord, up: Uplink, ts: number, t: Telemetry, withReading: boolean): TelemetryRecord | null {
    const prev = this.telemetry.get(binding.deviceId);
    const same = prev?.devEui === binding.devEui ? prev : undefined;
    if (same && ts < same.lastUplinkAt) return null;
    const next: TelemetryRecord = {
      deviceId: binding.deviceId,
      devEui: binding.devEui,
      lastUplinkAt: ts,
      battery: t.battery ?? same?.battery,
      batteryMv: t.batteryMv ?? same?.batteryMv,
      rssi: up.rssi ?? same?.rssi,
      snr: up.snr ?? same?.snr,
      fCnt: up.fCnt,
      // An uplink with a reading and no problem clears the last one; device information frames keep it.
      problem: t.problem ?? (withReading ? undefined : same?.problem),
    };
    // Like live state's heartbeats: an uplink that changes only the time and the radio figures is
    // written at most once a minute per device (after a crash, last seen may be up to a minute early).
    const written = this.telemetryWritten.get(binding.deviceId);
    const changed = !written || written.devEui !== next.devEui || written.battery !== next.battery || written.batteryMv !== next.batteryMv || written.problem !== next.problem;
    this.telemetry.set(binding.deviceId, next);
    if (changed || next.lastUplinkAt - written.lastUplinkAt >= TELEMETRY_PERSIST_MS) {
      this.telemetryWritten.set(binding.deviceId, next);
      return next;
    }
    return null;
  }

  private seenUnbound(up: Uplink, receivedAt: number): void {
    this.repo.seenUnbound({ devEui: up.devEui, network: up.network, name: up.name, applicationId: up.applicationId }, receivedAt).catch((err: unknown) => {
      this.log.error({ err, devEui: up.devEui }, 'could not record an unbound DevEUI');
    });
    if (!this.unboundLogged.has(up.devEui) && this.unboundLogged.size < 1000) {
      this.unboundLogged.add(up.devEui);
      this.log.info({ devEui: up.devEui, network: up.network, name: up.name }, 'uplink from a DevEUI without a binding: listed under GET /api/devices/unbound');
    }
  }

  // ------------------------------------------------------------------------------------------
  // Bindings

  private resolve(deviceId: string, input: BindingInput, where = ''): Resolved | { status: 400 | 404; error: string } {
    const ref = this.deps.site.device(deviceId);
    if (!ref) return { status: 404, error: `${where}no device "${deviceId.slice(0, 64)}" in the site configuration` };
    const devEui = normalizeDevEui(input.devEui);
    if (devEui === null) return { status: 400, error: `${where}devEui: must be 16 hex digits (any case), got ${JSON.stringify(input.devEui ?? null)?.slice(0, 40)}` };
    if (typeof input.codec !== 'string' || !CODECS.has(input.codec)) {
      return { status: 400, error: `${where}codec: ${typeof input.codec === 'string' ? `unknown codec "${input.codec.slice(0, 40)}"` : 'required'}; one of ${[...CODECS.keys()].join(', ')}` };
    }
    const codec = CODECS.get(input.codec)!;
    if (!codec.kinds.includes(ref.kind)) return { status: 400, error: `${where}codec: ${codec.name} makes ${codec.kinds.join('/')} readings; ${ref.id} is a ${ref.kind}` };
    if (input.params !== undefined && (typeof input.params !== 'object' || input.params === null || Array.isArray(input.params))) {
      return { status: 400, error: `${where}params: must be a JSON object` };
    }
    const params = codec.parseParams(input.params ?? {}, ref.kind);
    if (!params.ok) return { status: 400, error: `${where}${params.field}: ${params.message}` };
    return { ref, devEui, codec, params: params.params as Record<string, unknown> };
  }

  private view(b: BindingRecord, withAuthor = true): BindingView {
    return { deviceId: b.deviceId, devEui: b.devEui, codec: b.codec, params: b.params, updatedAt: iso(b.updatedAt), ...(withAuthor ? { updatedBy: b.updatedBy } : {}) };
  }

  binding(deviceId: string): BindingView | undefined {
    const ref = this.deps.site.device(deviceId);
    const b = ref ? this.byDevice.get(ref.id) : undefined;
    return b ? this.view(b) : undefined;
  }

  /** PUT /api/devices/{deviceId}/binding. Throws DevicesError (400 naming the field, 404, 409). */
  async setBinding(actor: string, ip: string | undefined, deviceId: string, input: BindingInput): Promise<BindingView> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new DevicesError(400, 'body: must be a JSON object {"devEui", "codec", "params"?}');
    const r = this.resolve(deviceId, input);
    if ('error' in r) throw new DevicesError(r.status, r.error);
    if (this.deps.shared) await this.followBindings();
    const other = this.byEui.get(r.devEui);
    if (other && other.deviceId !== r.ref.id) throw new DevicesError(409, `DevEUI ${r.devEui} is bound to device ${other.deviceId}; remove that binding first`);
    const previous = this.byDevice.get(r.ref.id);
    if (previous && previous.devEui === r.devEui && previous.codec === r.codec.name && sameParams(previous.params, r.params)) return this.view(previous);
    const record: BindingRecord = { deviceId: r.ref.id, devEui: r.devEui, codec: r.codec.name, params: r.params, updatedAt: this.clock.now(), updatedBy: actor };
    await this.apply([record]);
    this.deps.audit({
      actor,
      action: 'device.binding_set',
      target: record.deviceId,
      ...(ip ? { ip } : {}),
      detail: { devEui: record.devEui, codec: record.codec, params: record.params, ...(previous ? { previous: { devEui: previous.devEui, codec: previous.codec, params: previous.params } } : {}) },
    });
    this.log.info({ deviceId: record.deviceId, devEui: record.devEui, codec: record.codec, actor }, 'binding set');
    return this.view(record);
  }

  /** Writes bindings (new or changed) in one transaction, then applies them to memory. */
  private async apply(records: BindingRecord[]): Promise<void> {
    // A counter's baseline belongs to one device, codec and line: any change starts it again.
    try {
      await this.repo.applyBindings(records.map((r) => ({ record: r, previousDevEui: this.byDevice.get(r.deviceId)?.devEui })));
    } catch (err) {
      if (!(err instanceof DevEuiTaken)) throw err;
      // Another process bound one of these DevEUIs a moment ago: nothing was written; show its binding.
      await this.followBindings();
      throw new DevicesError(409, 'a DevEUI in this change was just bound to another device (on another ParkOps process); nothing was changed, look again and retry');
    }
    for (const r of records) {
      const previous = this.byDevice.get(r.deviceId);
      if (previous && this.byEui.get(previous.devEui) === previous) this.byEui.delete(previous.devEui);
      this.dropCounters(previous?.devEui);
      this.dropCounters(r.devEui);
    }
    for (const r of records) {
      this.byDevice.set(r.deviceId, r);
      this.byEui.set(r.devEui, r);
      this.unboundLogged.delete(r.devEui);
    }
  }

  private dropCounters(devEui: string | undefined): void {
    if (devEui === undefined) return;
    for (const key of [...this.counters.keys()]) if (key.startsWith(`${devEui}/`)) this.counters.delete(key);
  }

  /** DELETE /api/devices/{deviceId}/binding: 404 for an unknown device; no binding is already the goal. */
  async deleteBinding(actor: string, ip: string | undefined, deviceId: string): Promise<void> {
    const ref = this.deps.site.device(deviceId);
    if (!ref) throw new DevicesError(404, `no device "${deviceId.slice(0, 64)}" in the site configuration`);
    if (this.deps.shared) await this.followBindings();
    const b = this.byDevice.get(ref.id);
    if (!b) return;
    await this.repo.deleteBinding(ref.id, b.devEui);
    if (this.byDevice.get(ref.id) !== b) return;
    this.byDevice.delete(ref.id);
    if (this.byEui.get(b.devEui) === b) this.byEui.delete(b.devEui);
    this.dropCounters(b.devEui);
    this.deps.audit({ actor, action: 'device.binding_deleted', target: ref.id, ...(ip ? { ip } : {}), detail: { devEui: b.devEui, codec: b.codec } });
    this.log.info({ deviceId: ref.id, devEui: b.devEui, actor }, 'binding removed');
  }

  /**
   * The CSV import: all or nothing. Every row is checked first (including DevEUIs repeated in the file
   * or bound to a device the file does not change) and each bad row is named with its number; if any
   * row is bad nothing is imported. A half-applied import of 600 bays would leave an installer not
   * knowing which bays report; the file is fixed and imported again instead (importing is idempotent).
   */
  async importCsv(actor: string, ip: string | undefined, text: string, dryRun: boolean): Promise<BindingsImportResult> {
    const parsed = parseBindingsCsv(text);
    if (!parsed.ok) throw new DevicesError(400, parsed.error);
    if (this.deps.shared) await this.followBindings();
    const problems = [...parsed.problems];
    const good: Array<{ row: number; r: Resolved }> = [];
    const deviceRow = new Map<string, number>();
    const euiRow = new Map<string, number>();
    for (const row of parsed.rows) {
      const r = this.resolve(row.deviceId, row);
      if ('error' in r) {
        problems.push({ row: row.row, error: r.error });
        continue;
      }
      const dupDevice = deviceRow.get(r.ref.id);
      if (dupDevice !== undefined) {
        problems.push({ row: row.row, error: `device ${r.ref.id} is also in row ${dupDevice}` });
        continue;
      }
      const dupEui = euiRow.get(r.devEui);
      if (dupEui !== undefined) {
        problems.push({ row: row.row, error: `DevEUI ${r.devEui} is also in row ${dupEui}` });
        continue;
      }
      deviceRow.set(r.ref.id, row.row);
      euiRow.set(r.devEui, row.row);
      good.push({ row: row.row, r });
    }
    for (const { row, r } of good) {
      const holder = this.byEui.get(r.devEui);
      // Bound elsewhere, and the file does not move that other device to another DevEUI.
      if (holder && holder.deviceId !== r.ref.id && !deviceRow.has(holder.deviceId)) {
        problems.push({ row, error: `DevEUI ${r.devEui} is bound to device ${holder.deviceId}, which this file does not change` });
      }
    }
    const total = parsed.rows.length + parsed.problems.length;
    if (problems.length > 0) {
      problems.sort((a, b) => a.row - b.row);
      throw new DevicesError(400, `${problems.length} of ${total} rows have problems; nothing was imported`, problems);
    }
    const now = this.clock.now();
    const changed: BindingRecord[] = [];
    let created = 0;
    let unchanged = 0;
    for (const { r } of good) {
      const previous = this.byDevice.get(r.ref.id);
      if (previous && previous.devEui === r.devEui && previous.codec === r.codec.name && sameParams(previous.params, r.params)) {
        unchanged++;
        continue;
      }
      if (!previous) created++;
      changed.push({ deviceId: r.ref.id, devEui: r.devEui, codec: r.codec.name, params: r.params, updatedAt: now, updatedBy: actor });
    }
    const result: BindingsImportResult = { dryRun, rows: good.length, created, updated: changed.length - created, unchanged };
    if (dryRun || changed.length === 0) return result;
    await this.apply(changed);
    this.deps.audit({ actor, action: 'device.bindings_imported', ...(ip ? { ip } : {}), detail: { ...result, devices: changed.map((c) => c.deviceId) } });
    this.log.info({ actor, ...result }, 'bindings imported');
    return result;
  }

  /**
   * Bindings for the simulated park's LoRaWAN devices (PARKOPS_SIM_LORAWAN): only for devices that
   * have none and DevEUIs bound to nobody, so an admin's own bindings always win. Audited as one entry.
   */
  async seedBindings(actor: string, plan: ReadonlyArray<{ deviceId: string; devEui: string; codec: string; params: Record<string, unknown> }>): Promise<number> {
    const now = this.clock.now();
    const records: BindingRecord[] = [];
    for (const p of plan) {
      const r = this.resolve(p.deviceId, p);
      if ('error' in r) {
        this.log.warn({ deviceId: p.deviceId, error: r.error }, 'simulated LoRaWAN device not bound');
        continue;
      }
      if (this.byDevice.has(r.ref.id) || this.byEui.has(r.devEui)) continue;
      records.push({ deviceId: r.ref.id, devEui: r.devEui, codec: r.codec.name, params: r.params, updatedAt: now, updatedBy: actor });
    }
    if (records.length === 0) return 0;
    await this.apply(records);
    this.deps.audit({ actor, action: 'device.bindings_seeded', detail: { created: records.length, devices: records.map((r) => r.deviceId) } });
    return records.length;
  }

  // ------------------------------------------------------------------------------------------
  // Views

  codecs(): CodecView[] {
    return [...CODECS.values()].map((c) => ({ name: c.name, kinds: [...c.kinds], description: c.description, ...(c.paramsExample ? { paramsExample: c.paramsExample } : {}) }));
  }

  async unbound(): Promise<UnboundDeviceView[]> {
    return (await this.repo.unbound()).map((u) => ({
      devEui: u.devEui,
      network: u.network,
      ...(u.name !== undefined ? { name: u.name } : {}),
      ...(u.applicationId !== undefined ? { applicationId: u.applicationId } : {}),
      firstSeen: iso(u.firstSeen),
      lastSeen: iso(u.lastSeen),
      uplinks: u.uplinks,
    }));
  }

  /** Every device of the site, with its binding and what its uplinks last said (GET /api/devices). */
  devices(now = this.clock.now()): DeviceView[] {
    const { live, site } = this.deps;
    const out: DeviceView[] = [];
    const add = (base: { id: string; kind: DeviceView['kind']; name: string; nameZh?: string | undefined; parent?: string }, seenIso: string | null | undefined, stale: boolean, sectionOneBattery?: number | null): void => {
      const t = this.telemetry.get(base.id);
      const b = this.byDevice.get(base.id);
      const seen = Math.max(seenIso ? Date.parse(seenIso) : -Infinity, t?.lastUplinkAt ?? -Infinity);
      const battery = t?.battery ?? sectionOneBattery ?? undefined;
      out.push({
        id: base.id,
        kind: base.kind,
        name: base.name,
        ...(base.nameZh !== undefined ? { nameZh: base.nameZh } : {}),
        ...(base.parent !== undefined ? { parent: base.parent } : {}),
        ...(Number.isFinite(seen) ? { lastSeen: iso(seen) } : {}),
        ...(battery !== undefined ? { battery } : {}),
        ...(t?.batteryMv !== undefined ? { batteryMv: t.batteryMv } : {}),
        ...(t?.rssi !== undefined ? { rssi: t.rssi } : {}),
        ...(t?.snr !== undefined ? { snr: t.snr } : {}),
        // Viewers see the list: who made a binding is for the audit log, not for them.
        ...(b ? { binding: this.view(b, false) } : {}),
        stale,
        lowBattery: battery !== undefined && battery < site.parking.lowBatteryPct,
        ...(t?.problem !== undefined && t.devEui === b?.devEui ? { problem: t.problem } : {}),
      });
    };
    const parking = live.parking(now);
    const bays = new Map(parking.bays.map((v) => [v.id, v]));
    for (const bay of site.bays) {
      const v = bays.get(bay.id);
      add({ id: bay.id, kind: 'bay', name: bay.id, parent: bay.zone }, v?.lastSeen, v?.stale ?? true, v?.battery);
    }
    for (const g of parking.gates) add({ id: g.id, kind: 'gate', name: g.name, nameZh: g.nameZh }, g.lastScan?.ts, false);
    for (const room of this.deps.flood?.rooms().rooms ?? []) {
      for (const l of room.levels) add({ id: l.id, kind: 'level', name: l.name, nameZh: l.nameZh, parent: room.id }, l.lastSeen, l.stale);
      for (const p of room.pumps) add({ id: p.id, kind: 'pump', name: p.name, nameZh: p.nameZh, parent: room.id }, p.lastSeen, p.stale);
    }
    for (const v of live.venuesView(now)) add({ id: v.id, kind: 'venue', name: v.name, nameZh: v.nameZh }, v.ts, v.stale);
    return out;
  }
}
