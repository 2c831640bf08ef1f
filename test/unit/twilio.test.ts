// The Twilio clone's lifecycle inside workerd: worlds written before the bulk ticks still hold one
// step job per message; those jobs must carry their messages to the end on the new code.
import { describe, expect, it } from "vitest";
import { env, exports as workerExports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import type { World } from "../../src/kernel/world.ts";
import type { AppEnv } from "../../src/env.ts";
import { STEP_JOB, TICK_JOB, createMessage, getMessage } from "../../src/vendors/twilio/messages.ts";

const E = env as unknown as AppEnv;
const exports = workerExports as unknown as { default: Fetcher };

async function spawnTwilio() {
  const r = await exports.default.fetch("http://control.test/v1/runs", {
    method: "POST",
    headers: { authorization: "Bearer unit-test-org-key-0123456789", "content-type": "application/json" },
    body: JSON.stringify({ kinds: ["twilio"] }),
  });
  expect(r.status).toBe(201);
  const run = (await r.json()) as { token: string };
  const wid = JSON.parse(atob(run.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).wid as string;
  return E.RUN.get(E.RUN.idFromName(wid));
}

describe("twilio lifecycle", () => {
  it("carries a message driven by a per-message step job (an older world) to delivered", async () => {
    const stub = await spawnTwilio();
    await runInDurableObject(stub, async (instance, state) => {
      const w = (instance as unknown as { w: World }).w;
      await w.ensureSchema();
      const sql = state.storage.sql;
      const now = w.k.clock.now();
      const sid = state.storage.transactionSync(() => {
        const m = createMessage(w.k, { to: "+15551234567", from: "+15005550006", body: "old", media: [], messagingServiceSid: null, statusCallback: null, sendAt: null, direction: "outbound-api" });
        // As the previous schema left it: no next_at, no tick, one step job for the message.
        sql.exec("UPDATE twilio_messages SET next_at = NULL, dequeue_at = NULL WHERE sid = ?", m.sid);
        sql.exec("DELETE FROM kernel_jobs WHERE type = ?", TICK_JOB);
        w.k.jobs.schedule("twilio", STEP_JOB, now + 1_000, {}, m.sid);
        return m.sid;
      });
      const fired = await w.advance(now + 10_000);
      expect(fired.map((f) => f.what)).toEqual([`message ${sid} sending`, `message ${sid} sent`, `message ${sid} delivered`]);
      expect(state.storage.transactionSync(() => getMessage(w.k, sid))).toMatchObject({ status: "delivered", next_at: null });
      expect(sql.exec("SELECT count(*) AS n FROM kernel_jobs").one().n).toBe(0);
    });
  });
});
