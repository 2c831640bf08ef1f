import type { Meta } from "./meta.ts";

/**
 * The run's virtual clock: wall time plus an offset, or a frozen instant. Everything in a world
 * reads time from here; webhook signatures and JWT lifetimes alone use the wall clock.
 */
export class Clock {
  private offsetMs = 0;
  private frozenAt: number | null = null;
  /** Set while jobs drain during an advance, so each job runs at its own due time. */
  private pinnedAt: number | null = null;

  constructor(private readonly meta: Meta) {}

  load(): void {
    this.offsetMs = Number(this.meta.get("clock.offset") ?? 0);
    const f = this.meta.get("clock.frozen");
    this.frozenAt = f === null || f === "" ? null : Number(f);
  }

  now(): number {
    if (this.pinnedAt !== null) return this.pinnedAt;
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  get frozen(): boolean {
    return this.frozenAt !== null;
  }

  get offset(): number {
    return this.frozenAt !== null ? this.frozenAt - Date.now() : this.offsetMs;
  }

  /** Wall-clock instant at which virtual instant `at` arrives, or null while frozen. */
  wallTimeOf(at: number): number | null {
    return this.frozenAt !== null ? null : at - this.offsetMs;
  }

  pin(at: number): void {
    if (at > this.now()) this.pinnedAt = at;
  }

  unpin(): void {
    this.pinnedAt = null;
  }

  /** Moves the clock to `at` (never backwards) and persists it. */
  moveTo(at: number): void {
    this.pinnedAt = null;
    if (this.frozenAt !== null) {
      this.frozenAt = Math.max(this.frozenAt, at);
      this.meta.set("clock.frozen", String(this.frozenAt));
    } else {
      this.offsetMs += Math.max(0, at - (Date.now() + this.offsetMs));
      this.meta.set("clock.offset", String(this.offsetMs));
    }
  }

  freeze(): void {
    if (this.frozenAt !== null) return;
    this.frozenAt = Date.now() + this.offsetMs;
    this.meta.set("clock.frozen", String(this.frozenAt));
  }

  resume(): void {
    if (this.frozenAt === null) return;
    this.offsetMs = this.frozenAt - Date.now();
    this.frozenAt = null;
    this.meta.set("clock.offset", String(this.offsetMs));
    this.meta.set("clock.frozen", "");
  }
}
