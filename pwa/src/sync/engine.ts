// The sync client: uploads photos, pushes the outbox in batches, then pulls
// until the server has nothing more. It follows the Go client's rules:
// an outbox entry leaves only on the server's answer; a rejected change
// moves to a visible list and never blocks the queue; clock_skew corrects
// the local clock and retries; a first snapshot appears only when complete;
// reset drops the local copy (at the swap) and pulls again. A pull that
// kept a pending local value over a different server value does not save
// its cursor, so the next run, after pushing, pulls those rows again as the
// merge left them. Every answer moves the clock past the server's time and
// the versions it carries (see Hlc.receive); a pushed value that lost to a
// concurrent later write is kept as a notice for its user.
import type { Echo, Loss, OutboxEntry, Refusal, Store } from '../store/store';
import { Store as StoreClass } from '../store/store';
import type { Hlc } from './hlc';
import { ApiError, LoginRequired, NetworkError, readError, type Session } from './session';
import { PROTOCOL, jsonBody, type PullResponse, type PushResponse } from './wire';

// A push holds at most the server's limit of changes (protocol.MaxBatch)
// and about PUSH_BYTES of JSON before compression: each push costs a round
// trip (2 s on a weak signal), so a month of work goes in a few pushes,
// while one push stays a quarter of the server's default body limit
// (4 MiB) and, gzipped, a few seconds of upload at 50 kB/s: a dropped
// connection loses little. A single change larger than the budget still
// goes, alone.
const PUSH_MAX_CHANGES = 1000;
const PUSH_BYTES = 1024 * 1024;
// Bytes of a change on the wire besides its fields: ids, table, clock, keys.
const CHANGE_OVERHEAD = 200;
// The largest page the server gives (protocol.MaxPullLimit): fewer round
// trips, each 2 s on a weak signal; a page is one transaction, so a dropped
// connection loses at most one page.
const PULL_LIMIT = 2000;
const PERIOD_MS = 60_000;
const AFTER_WRITE_MS = 4_000;

export type SyncProblem =
  | { kind: 'offline' }
  | { kind: 'login' }
  | { kind: 'upgrade' }
  | { kind: 'server'; message: string };

export interface SyncStatus {
  running: boolean;
  lastSuccessAt: string | null;
  problem: SyncProblem | null;
}

/** Fields that name attachments: a change is sent only after its blobs are on the server. */
function attachmentRefs(e: OutboxEntry): string[] {
  const f = JSON.parse(e.fields) as Record<string, unknown>;
  const out: string[] = [];
  if (e.tbl === 'checkins' && typeof f.photo === 'string' && f.photo) out.push(f.photo);
  if (e.tbl === 'visit_notes' && Array.isArray(f.attachments)) out.push(...f.attachments.map(String));
  return out;
}

const encoder = new TextEncoder();

function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

export class SyncEngine {
  private running: Promise<void> | null = null;
  private status: SyncStatus = { running: false, lastSuccessAt: null, problem: null };
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private soon: ReturnType<typeof setTimeout> | undefined;
  private readonly onOnline = () => void this.run();
  private unsubscribeStore: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly session: Session,
    private readonly hlc: Hlc,
    private readonly deviceId: string,
  ) {}

  get state(): SyncStatus {
    return this.status;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(p: Partial<SyncStatus>): void {
    this.status = { ...this.status, ...p };
    for (const fn of this.listeners) fn();
  }

  /** Starts automatic sync: now, when a network appears, periodically, and shortly after local writes. */
  async start(): Promise<void> {
    this.status = { ...this.status, lastSuccessAt: (await this.store.getState('last_sync_at')) ?? null };
    window.addEventListener('online', this.onOnline);
    this.timer = setInterval(() => {
      if (navigator.onLine) void this.run();
    }, PERIOD_MS);
    this.unsubscribeStore = this.store.subscribe((kind) => {
      if (kind !== 'local') return;
      clearTimeout(this.soon);
      this.soon = setTimeout(() => {
        // A run in progress may have missed this write: go again after it.
        if (navigator.onLine) void (this.running ?? Promise.resolve()).then(() => this.run());
      }, AFTER_WRITE_MS);
    });
    if (navigator.onLine) void this.run();
  }

  stop(): void {
    window.removeEventListener('online', this.onOnline);
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.unsubscribeStore?.();
  }

  /** One full sync; concurrent callers share the run in progress. */
  run(): Promise<void> {
    this.running ??= this.runOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runOnce(): Promise<void> {
    // Another tab may have logged someone else in: never send this
    // user's changes with their tokens.
    const who = this.session.current;
    if (this.session.needsLogin || (who && who.deviceId !== this.deviceId)) {
      this.set({ problem: { kind: 'login' } });
      return;
    }
    this.set({ running: true });
    try {
      const blocked = await this.uploadAttachments();
      await this.push();
      await this.pull();
      const at = new Date().toISOString();
      await this.store.setState('last_sync_at', at);
      this.set({ running: false, lastSuccessAt: at, problem: blocked.size ? this.status.problem : null });
    } catch (e) {
      this.set({ running: false, problem: this.problemOf(e) });
    }
  }

  private problemOf(e: unknown): SyncProblem {
    if (e instanceof NetworkError) return { kind: 'offline' };
    if (e instanceof LoginRequired) return { kind: 'login' };
    if (e instanceof ApiError && e.code === 'protocol_unsupported') return { kind: 'upgrade' };
    if (e instanceof ApiError) return { kind: 'server', message: `${e.code}: ${e.message}` };
    return { kind: 'server', message: e instanceof Error ? e.message : String(e) };
  }

  /** PUTs every blob not yet confirmed; returns the hashes still not on the server. */
  private async uploadAttachments(): Promise<Set<string>> {
    const blocked = new Set<string>();
    for (const a of await this.store.pendingAttachments()) {
      const blob = await this.store.attachmentBytes(a.sha256);
      if (!blob) continue;
      const res = await this.session.fetch(`/api/v1/attachments/${a.sha256}`, {
        method: 'PUT',
        headers: { 'Content-Type': blob.mime },
        body: blob.bytes as BlobPart,
      });
      if (res.ok) {
        await this.store.markUploaded(a.sha256);
      } else {
        const err = await readError(res);
        if (res.status === 401) throw new LoginRequired(err.message);
        blocked.add(a.sha256);
        this.set({ problem: { kind: 'server', message: `${err.code}: ${err.message}` } });
      }
    }
    return blocked;
  }

  /**
   * Sends the outbox in order, one push per base cursor (the server judges
   * concurrency by what the device had pulled when it made the change). An
   * entry is sent only once every photo it names is on the server, and not
   * while its user is fixing it ("Sửa"); the pending photos are read again
   * for each batch, as a write during the run may have queued a new one.
   * The entries of a push are chosen and marked as being sent in one
   * critical section, so a write meanwhile makes an entry of its own
   * instead of changing one in flight. On clock_skew the clock is corrected
   * once per run and every entry from the first refused one on is
   * restamped and sent again; a second refusal in the same run leaves them
   * queued for the next.
   */
  private async push(): Promise<void> {
    let after = 0;
    let corrected = false;
    for (;;) {
      const group = await this.claim(after);
      if (group.length === 0) return;
      after = group[group.length - 1]!.seq;
      let res: PushResponse;
      let firstSkewed: number | undefined;
      try {
        res = await this.sendPush({
          protocol: PROTOCOL,
          device_id: this.deviceId,
          ...(group[0]!.base_cursor ? { base_cursor: group[0]!.base_cursor } : {}),
          // The answer says what the server made of these changes, so the
          // pull need not send them back (docs/protocol.md, "Own writes").
          no_echo: true,
          changes: group.map(StoreClass.toWireChange),
        });
        if (res.server_time) this.hlc.receive(res.server_time);
        if (res.hlc) this.hlc.observe(res.hlc);
        const byId = new Map(group.map((e) => [e.id, e]));
        const done: string[] = [];
        const rejected: Refusal[] = [];
        const lost: Loss[] = [];
        const echoes: Echo[] = [];
        for (const r of res.results ?? []) {
          const entry = byId.get(r.id);
          if (!entry) continue;
          if (r.status === 'applied' || r.status === 'duplicate') {
            done.push(r.id);
            if (r.version) this.hlc.observe(r.version);
            if (r.version || r.fields || r.out_of_scope) {
              echoes.push({ entry, version: r.version ?? '', fields: r.fields ?? {}, outOfScope: r.out_of_scope === true });
            }
            if (Array.isArray(r.lost) && r.lost.length > 0) lost.push({ entry, values: r.lost });
          } else if (r.status === 'rejected' && r.code === 'clock_skew') {
            firstSkewed = Math.min(firstSkewed ?? entry.seq, entry.seq);
          } else if (r.status === 'rejected') {
            rejected.push({ entry, code: r.code ?? 'rejected', message: r.message ?? '', field: r.field ?? null });
          }
        }
        await this.store.settle(done, rejected, lost, echoes);
      } finally {
        this.store.release(group);
      }
      if (firstSkewed === undefined) {
        await this.store.saveClock();
        continue;
      }
      if (corrected || !res.server_time) {
        // Still ahead after one correction: keep them queued, try next run.
        await this.store.saveClock();
        throw new ApiError(409, 'clock_skew', 'the server refused the device clock');
      }
      // The device clock runs ahead: adopt the server's time, restamp from
      // the first refused entry on, and send them again.
      corrected = true;
      this.hlc.correct(res.server_time, res.hlc);
      await this.store.restampFrom(firstSkewed);
      after = firstSkewed - 1;
    }
  }

  /**
   * POSTs one push, gzipped where the browser can (wire.ts jsonBody). A
   * server that refuses the coding (415 unsupported_encoding) gets it
   * again plain.
   */
  private async sendPush(req: unknown): Promise<PushResponse> {
    let gzip = true;
    for (;;) {
      const b = await jsonBody(req, gzip);
      const res = await this.session.fetch('/api/v1/sync/push', { method: 'POST', headers: b.headers, body: b.body });
      if (res.ok) return (await res.json()) as PushResponse;
      const err = await readError(res);
      if (!(b.gzipped && res.status === 415 && err.code === 'unsupported_encoding')) throw err;
      gzip = false;
    }
  }

  /**
   * The next push after afterSeq: the oldest entries that are ready (their
   * photos uploaded, not held for a fix) and share the first one's base
   * cursor, marked as being sent. Empty when nothing is left to send.
   */
  private claim(afterSeq: number): Promise<OutboxEntry[]> {
    return this.store.exclusive(async () => {
      let after = afterSeq;
      for (;;) {
        const batch = await this.store.outboxBatch(PUSH_MAX_CHANGES, after);
        if (batch.length === 0) return [];
        const pending = new Set((await this.store.pendingAttachments()).map((a) => a.sha256));
        const ready = batch.filter((e) => !this.store.isHeld(e) && attachmentRefs(e).every((h) => !pending.has(h)));
        if (ready.length === 0) {
          after = batch[batch.length - 1]!.seq;
          continue;
        }
        let n = 1;
        let bytes = utf8Length(ready[0]!.fields) + CHANGE_OVERHEAD;
        while (n < ready.length && ready[n]!.base_cursor === ready[0]!.base_cursor) {
          bytes += utf8Length(ready[n]!.fields) + CHANGE_OVERHEAD;
          if (bytes > PUSH_BYTES) break;
          n++;
        }
        const group = ready.slice(0, n);
        this.store.markSending(group);
        return group;
      }
    });
  }

  private async pull(): Promise<void> {
    let cursor = (await this.store.getState('cursor')) ?? '';
    let snapshot = cursor === '';
    if (snapshot) cursor = (await this.store.getState('snapshot_cursor')) ?? '';
    let resets = 0;
    // Set once a page kept a pending local value over the server's: the
    // saved cursor stays before it for the rest of this pull (see
    // Store.applyPage), and the next run pushes, then pulls from there.
    let held = false;
    for (;;) {
      let res: PullResponse;
      try {
        res = await this.session.postJSON<PullResponse>('/api/v1/sync/pull', {
          protocol: PROTOCOL,
          device_id: this.deviceId,
          cursor,
          limit: PULL_LIMIT,
          // Rows this device wrote and was told the outcome of (push
          // answers) are not sent back; every page of a snapshot asks for
          // all, as the staged copy replaces the device's rows.
          no_echo: !snapshot,
        });
      } catch (e) {
        // A cursor this server did not make (a restored or replaced server):
        // the same as being told to reset.
        if (!(e instanceof ApiError && e.code === 'invalid_cursor')) throw e;
        res = { rows: [], cursor: '', has_more: true, reset: true };
      }
      if (res.reset) {
        if (++resets > 3) throw new ApiError(500, 'reset_loop', 'the server keeps asking for a reset');
        await this.store.clearStage();
        snapshot = true;
        cursor = '';
        continue;
      }
      // The receive rule: whatever is written after this page is stamped
      // after everything on it, however far behind the device clock runs.
      if (res.server_time) this.hlc.receive(res.server_time);
      for (const r of res.rows ?? []) if (r.version) this.hlc.observe(r.version);
      if (snapshot) {
        await this.store.stagePage(res.rows ?? [], res.cursor);
        if (!res.has_more) {
          await this.store.applySnapshot(res.cursor);
          await this.store.saveClock();
          return;
        }
      } else {
        held = await this.store.applyPage(res.rows ?? [], res.cursor, held);
        if (!res.has_more) {
          await this.store.saveClock();
          return;
        }
      }
      cursor = res.cursor;
    }
  }
}
