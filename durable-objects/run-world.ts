// The run's Durable Object: a thin RPC surface over World (src/kernel/world.ts).
import { DurableObject } from "cloudflare:workers";
import type { Hono } from "hono";
import type { AppEnv } from "../src/env.ts";
import { World } from "../src/kernel/world.ts";
import { BundleError } from "../src/kernel/snapshots.ts";
import { adminRouter } from "../src/admin/router.ts";
import { ApiError } from "../src/lib/http-error.ts";
import { isKind, type Kind, type WorldIdentity } from "../src/kernel/types.ts";
import { KIND_HEADER } from "../src/vendors/gateway.ts";

export class RunWorld extends DurableObject<AppEnv> {
  private readonly w: World;
  private adminApp: Hono | null = null;

  constructor(ctx: DurableObjectState, env: AppEnv) {
    super(ctx, env);
    this.w = new World(ctx, env.SNAPSHOTS, Number(env.MOLAR_WEBHOOK_TIMEOUT_MS) || undefined);
    ctx.blockConcurrencyWhile(() => this.w.open());
  }

  /** Creates the world; `fromKey` names a snapshot bundle in R2 to branch from. Answers true or why not. */
  async create(identity: WorldIdentity, fromKey: string | null): Promise<true | string> {
    let bundle: ArrayBuffer | null = null;
    if (fromKey) {
      const obj = await this.env.SNAPSHOTS.get(fromKey);
      if (!obj) return "The snapshot's bundle is gone.";
      bundle = await obj.arrayBuffer();
    }
    try {
      await this.w.create(identity, bundle);
      return true;
    } catch (e) {
      if (e instanceof BundleError) {
        await this.w.destroy();
        return e.message;
      }
      throw e;
    }
  }

  /** Nothing to do: being constructed re-armed the alarm (see World.open). */
  async wake(): Promise<boolean> {
    return this.w.alive;
  }

  async destroy(): Promise<void> {
    await this.w.destroy();
  }

  async setExpiry(expiresAt: number): Promise<void> {
    this.w.setExpiry(expiresAt);
  }

  async snapshotKey(snapshotId: string): Promise<string | null> {
    if (!this.w.alive) return null;
    await this.w.ensureSchema();
    return this.w.snapshots.key(snapshotId);
  }

  /** Vendor traffic from the gateway (src/vendors/gateway.ts), which alone sets the kind header. */
  override async fetch(req: Request): Promise<Response> {
    const kind = req.headers.get(KIND_HEADER);
    if (!isKind(kind)) return new Response("Not found", { status: 404 });
    return this.w.vendor(kind, req);
  }

  async vendor(kind: Kind, req: Request): Promise<Response> {
    return this.w.vendor(kind, req);
  }

  /** An admin call; `path` is what follows /admin/v1/runs/{runId}. */
  async admin(req: Request, path: string): Promise<Response> {
    if (!this.w.alive) return new ApiError(401, "run_gone", "This run has been torn down or has expired.").getResponse();
    await this.w.ensureSchema();
    this.adminApp ??= adminRouter(this.w);
    const url = new URL(req.url);
    const res = await this.adminApp.fetch(new Request(`http://admin${path || "/"}${url.search}`, req));
    // Admin calls may schedule work (redelivery, vendor admin routes): keep the alarm on it.
    this.w.rearm();
    return res;
  }

  override async alarm(): Promise<void> {
    if (this.w.identity && !this.w.alive) {
      await this.w.destroy();
      return;
    }
    await this.w.alarm();
  }
}
