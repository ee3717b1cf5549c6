// Hybrid logical clock of sync protocol v1 (docs/protocol.md): "<15-digit
// unix ms>.<5-digit counter>.<device id>", so plain string order is clock
// order. The offset corrects a phone whose clock is wrong: every server
// answer (push or pull page) sets it from the server's time (zero when the
// two agree within a minute), so a phone whose date was fixed stops using
// an old correction. Every answer also moves the clock past the server's
// time and past every row version it carries (the receive rule): a write
// made after seeing a value is stamped after it, even on a phone whose
// clock runs days behind.

export interface ClockState {
  ms: number;
  counter: number;
  offsetMs: number;
  /** The device's own clock when offsetMs was measured (absent in older saved states). */
  offsetAt?: number;
}

export function formatHlc(ms: number, counter: number, device: string): string {
  return `${String(ms).padStart(15, '0')}.${String(counter).padStart(5, '0')}.${device}`;
}

export function parseHlc(s: string): { ms: number; counter: number } | undefined {
  const m = /^(\d{15})\.(\d{5})\./.exec(s);
  if (!m) return undefined;
  return { ms: Number(m[1]), counter: Number(m[2]) };
}

/** Disagreement with the server's time below which the device clock is trusted as is. */
const OFFSET_THRESHOLD_MS = 60_000;
/**
 * How far ahead of the server a stamp may be and still be accepted: the
 * server's default clock_skew tolerance. Stamps within it are valid, and
 * the clock never goes back below them.
 */
const SERVER_TOLERANCE_MS = 5 * 60_000;
/** How far ahead of the server's time a clock seen elsewhere may be before it is ignored as absurd. */
const ABSURD_AHEAD_MS = 86_400_000;

export class Hlc {
  constructor(private readonly device: string, private st: ClockState, private readonly now: () => number = Date.now) {}

  get state(): ClockState {
    return { ...this.st };
  }

  /** The next clock for a local write: always greater than any seen before. */
  next(): string {
    const raw = this.now();
    if (this.st.offsetMs !== 0 && this.st.offsetAt !== undefined && raw < this.st.offsetAt - OFFSET_THRESHOLD_MS) {
      // The device clock was set back since the offset was measured: the
      // user fixed the date, and the old correction would now stamp this
      // device's edits in the past, where they silently lose. A clock still
      // wrong is refused by the server and measured again.
      this.st = { ...this.st, offsetMs: 0, offsetAt: raw };
    }
    const wall = raw + this.st.offsetMs;
    if (wall > this.st.ms) {
      this.st = { ...this.st, ms: wall, counter: 0 };
    } else {
      this.st = { ...this.st, counter: this.st.counter + 1 };
    }
    if (this.st.counter > 99999) this.st = { ...this.st, ms: this.st.ms + 1, counter: 0 };
    return formatHlc(this.st.ms, this.st.counter, this.device);
  }

  /**
   * The server's time as this device knows it: its own clock corrected by
   * the offset measured at the last answer (last server_time plus the time
   * elapsed since, within the minute adjust tolerates).
   */
  private serverNow(): number {
    return this.now() + this.st.offsetMs;
  }

  /**
   * Merges a clock seen from elsewhere (a pulled row's version, the
   * server's clock in an answer): the next local stamp comes after it. A
   * clock more than a day ahead of the server's time is absurd (no server
   * accepts it) and is ignored, so it cannot drag this device's stamps into
   * the future. The bound is the server's time, not the device's: a phone
   * whose clock runs days behind must still move past what it pulls.
   */
  observe(remote: string): void {
    const r = parseHlc(remote);
    if (!r) return;
    if (r.ms > this.serverNow() + ABSURD_AHEAD_MS) return;
    this.advance(r.ms, r.counter);
  }

  /**
   * A server answer's time (push answers and pull pages carry
   * server_time): sets the offset from it (see adjust) and moves the clock
   * past it, so anything written from now on is stamped after what the
   * server held when it answered.
   */
  receive(serverTime: string): void {
    const server = Date.parse(serverTime);
    if (Number.isNaN(server)) return;
    this.adjust(serverTime);
    this.advance(server, 0);
  }

  private advance(ms: number, counter: number): void {
    if (ms > this.st.ms || (ms === this.st.ms && counter > this.st.counter)) {
      this.st = { ...this.st, ms, counter };
    }
  }

  /**
   * Sets the offset from the server's time, on every answer: the server's
   * time minus the device's when they disagree by more than a minute, else
   * zero (the device clock is right, or was fixed since).
   */
  private adjust(serverTime: string): void {
    const server = Date.parse(serverTime);
    if (Number.isNaN(server)) return;
    const now = this.now();
    const offsetMs = Math.abs(server - now) > OFFSET_THRESHOLD_MS ? server - now : 0;
    this.st = { ...this.st, offsetMs, offsetAt: now };
  }

  /**
   * After a clock_skew rejection: adopts the server's time (see adjust) and
   * pulls the logical clock back, but never below the server's clock
   * (serverHlc, everything it has accepted) nor below a stamp already seen
   * or issued that the server still accepts; only a clock beyond the
   * server's tolerance is dropped, as it would keep every new write in the
   * future.
   */
  correct(serverTime: string, serverHlc?: string): void {
    const server = Date.parse(serverTime);
    if (Number.isNaN(server)) return;
    this.adjust(serverTime);
    if (this.st.ms > server + SERVER_TOLERANCE_MS) this.st = { ...this.st, ms: 0, counter: 0 };
    this.advance(server, 0);
    if (serverHlc) this.observe(serverHlc);
  }
}
