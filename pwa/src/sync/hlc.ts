// Hybrid logical clock of design §4: "<15-digit unix ms>.<5-digit
// counter>.<device id>", so plain string order is clock order. The offset
// corrects a phone whose clock runs ahead: after a clock_skew rejection it
// is set from the server's time, so this device stops stamping the future.

export interface ClockState {
  ms: number;
  counter: number;
  offsetMs: number;
}

export function formatHlc(ms: number, counter: number, device: string): string {
  return `${String(ms).padStart(15, '0')}.${String(counter).padStart(5, '0')}.${device}`;
}

export function parseHlc(s: string): { ms: number; counter: number } | undefined {
  const m = /^(\d{15})\.(\d{5})\./.exec(s);
  if (!m) return undefined;
  return { ms: Number(m[1]), counter: Number(m[2]) };
}

export class Hlc {
  constructor(private readonly device: string, private st: ClockState, private readonly now: () => number = Date.now) {}

  get state(): ClockState {
    return { ...this.st };
  }

  /** The next clock for a local write: always greater than any seen before. */
  next(): string {
    const wall = this.now() + this.st.offsetMs;
    if (wall > this.st.ms) {
      this.st = { ...this.st, ms: wall, counter: 0 };
    } else {
      this.st = { ...this.st, counter: this.st.counter + 1 };
    }
    if (this.st.counter > 99999) this.st = { ...this.st, ms: this.st.ms + 1, counter: 0 };
    return formatHlc(this.st.ms, this.st.counter, this.device);
  }

  /** Merges a clock seen from elsewhere (the server's answer, a pulled row's version). */
  observe(remote: string): void {
    const r = parseHlc(remote);
    if (!r) return;
    // Never let a remote clock drag ours far into the future: a server
    // answer is trusted, but it too is bounded by a day.
    if (r.ms > this.now() + this.st.offsetMs + 86_400_000) return;
    if (r.ms > this.st.ms || (r.ms === this.st.ms && r.counter > this.st.counter)) {
      this.st = { ...this.st, ms: r.ms, counter: r.counter };
    }
  }

  /**
   * Adopts the server's wall clock after a clock_skew rejection. The logical
   * part is reset too: clocks already stamped in the future would otherwise
   * keep every new write in the future.
   */
  correct(serverTime: string): void {
    const server = Date.parse(serverTime);
    if (Number.isNaN(server)) return;
    const offsetMs = server - this.now();
    this.st = { ms: server, counter: 0, offsetMs };
  }
}
