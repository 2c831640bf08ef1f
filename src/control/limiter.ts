/**
 * Failed authentications per client address, in a sliding minute. Past the limit every attempt
 * from that address is refused until the window ends, so guessing keys stops paying. It lives in
 * the isolate's memory: on Cloudflare each isolate counts alone, which only raises the bound by the
 * number of isolates; keys carry 192 random bits, this is defence in depth.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
  ) {}

  /** Seconds until `who` may try again, or null when it may now. */
  blocked(who: string, now = Date.now()): number | null {
    const w = this.windows.get(who);
    if (!w || now - w.start >= this.windowMs) return null;
    return w.failures >= this.limit ? Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)) : null;
  }

  fail(who: string, now = Date.now()): void {
    let w = this.windows.get(who);
    if (!w || now - w.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.windows.clear();
      w = { start: now, failures: 0 };
      this.windows.set(who, w);
    }
    w.failures++;
  }
}
