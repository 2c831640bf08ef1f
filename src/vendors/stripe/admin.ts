// Admin calls of the Stripe clone, under {adminUrl}/stripe: what a test does in place of the
// customer's browser (completing or failing a 3-D Secure challenge).
import { Hono } from "hono";
import type { Kernel } from "../../kernel/types.ts";
import { ApiError, jsonObject } from "../../lib/http-error.ts";
import { StripeError } from "./errors.ts";
import { finishAuthentication } from "./payment-intents.ts";
import { finishSetupAuthentication } from "./setup-intents.ts";
import { dunningOf, setDunning, type Dunning } from "./renewals.ts";
import { ctxOf } from "./wire.ts";

export function stripeAdmin(k: Kernel): Hono {
  const app = new Hono();
  /** Body `{ "outcome": "complete" | "fail" }` (default complete); answers the intent. */
  app.post("/:kind{payment_intents|setup_intents}/:id/authenticate", async (c) => {
    const b = await jsonObject(c.req.raw);
    const outcome = b.outcome ?? "complete";
    if (outcome !== "complete" && outcome !== "fail") throw new ApiError(422, "invalid_field", "`outcome` must be `complete` or `fail`.");
    try {
      const finish = c.req.param("kind") === "setup_intents" ? finishSetupAuthentication : finishAuthentication;
      return c.json(k.tx(() => finish(ctxOf(k), c.req.param("id"), outcome)));
    } catch (e) {
      if (e instanceof StripeError) throw new ApiError(e.statusCode, String(e.body.code ?? "invalid_request"), String(e.body.message));
      throw e;
    }
  });
  /** Smart Retries' stand-in: `{ retryDays: [3, 5, 7], onFailure: "cancel" | "past_due" | "unpaid", invoice: "leave_open" | "mark_uncollectible" }`. */
  app.get("/settings/dunning", (c) => c.json(dunningOf(ctxOf(k))));
  app.post("/settings/dunning", async (c) => {
    const b = await jsonObject(c.req.raw, false);
    const d: Dunning = { ...dunningOf(ctxOf(k)) };
    if (b.retryDays !== undefined) {
      if (!Array.isArray(b.retryDays) || b.retryDays.length > 8 || !b.retryDays.every((x) => Number.isInteger(x) && x >= 1 && x <= 60)) {
        throw new ApiError(422, "invalid_field", "`retryDays` must be up to 8 whole numbers of days between 1 and 60.");
      }
      d.retryDays = b.retryDays as number[];
    }
    if (b.onFailure !== undefined) {
      if (b.onFailure !== "cancel" && b.onFailure !== "past_due" && b.onFailure !== "unpaid") throw new ApiError(422, "invalid_field", "`onFailure` must be cancel, past_due or unpaid.");
      d.onFailure = b.onFailure;
    }
    if (b.invoice !== undefined) {
      if (b.invoice !== "leave_open" && b.invoice !== "mark_uncollectible") throw new ApiError(422, "invalid_field", "`invoice` must be leave_open or mark_uncollectible.");
      d.invoice = b.invoice;
    }
    k.tx(() => setDunning(ctxOf(k), d));
    return c.json(d);
  });
  return app;
}
