// Delivery faults (issue 10): receivers that never answer, answer 500, reset the connection,
// answer gigabytes, or come back late. Retries follow the schedule on the run clock, every
// attempt is in the log, nothing is lost, and nothing lands twice without a redelivery request.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type net from "node:net";
import { Resend } from "resend";
import { admin, advance, spawn, type Run } from "./helpers.ts";

type Mode = "hang" | "500" | "reset" | "huge" | "late";
const got: Record<Mode, string[]> = { hang: [], "500": [], reset: [], huge: [], late: [] };
let server: http.Server;
let base = "";
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const mode = req.url!.slice(1) as Mode;
    req.resume();
    req.on("end", () => {
      got[mode].push(String(req.headers["svix-id"]));
      if (mode === "hang") return; // never answers: the world's timeout must end the attempt
      if (mode === "500") return void res.writeHead(500).end("down");
      if (mode === "reset") return void req.socket.destroy();
      if (mode === "late") return void (got.late.length < 3 ? res.writeHead(503).end() : res.writeHead(200).end("ok"));
      // 200, then far more bytes than anyone should read.
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(1 << 20, 120);
      let sent = 0;
      const pump = () => {
        while (sent < 512 && res.write(chunk)) sent++;
        if (sent >= 512) res.end();
        else res.once("drain", pump);
      };
      res.on("error", () => undefined);
      pump();
    });
  });
  server.on("connection", (s) => (sockets.add(s), s.on("close", () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const deliveries = async (run: Run, mode: Mode) =>
  ((await admin(run, "GET", "/webhooks/deliveries?kind=email")).json.data as any[]).filter((d) => d.url === `${base}/${mode}` && d.event === "email.sent");

describe("webhook delivery faults", () => {
  it("retries hung, failing, resetting and late receivers on the run clock, and reads no more than it needs", async () => {
    const run = await spawn({ kinds: ["email"] });
    for (const mode of Object.keys(got) as Mode[]) {
      const r = await admin(run, "POST", "/webhooks/endpoints", { kind: "email", url: `${base}/${mode}`, events: ["email.sent"] });
      expect(r.status).toBe(201);
    }
    const resend = new Resend(run.clones.email.apiKey, { baseUrl: run.clones.email.url });
    expect((await resend.emails.send({ from: "a@acme.test", to: "faults@acme.test", subject: "s", text: "x" })).error).toBeNull();

    // First attempts: everything due now is sent before the advance answers.
    await advance(run, "1s");
    const first = Object.fromEntries(await Promise.all((Object.keys(got) as Mode[]).map(async (m) => [m, (await deliveries(run, m))[0]])));
    expect(first.huge).toMatchObject({ status: "succeeded", attempts: 1, lastStatus: 200 });
    expect(first.hang).toMatchObject({ status: "pending", attempts: 1, lastError: expect.stringMatching(/timed? ?out|abort/i) });
    expect(first["500"]).toMatchObject({ status: "pending", attempts: 1, lastError: "HTTP 500" });
    expect(first.reset).toMatchObject({ status: "pending", attempts: 1, lastError: expect.any(String) });
    expect(first.late).toMatchObject({ status: "pending", attempts: 1, lastError: "HTTP 503" });
    // Svix's schedule: the second attempt 5 s after the first, on the run clock.
    for (const m of ["hang", "500", "reset", "late"] as const) {
      expect(Date.parse(first[m].nextAttemptAt) - Date.parse((await admin(run, "GET", "/clock")).json.now)).toBeLessThanOrEqual(5_000);
    }

    // Nothing more happens until the clock says so.
    await advance(run, "1s");
    expect(got["500"]).toHaveLength(1);
    // 5 s, then 5 min: the late receiver answers on its third attempt and is done.
    await advance(run, "5s");
    await advance(run, "5m");
    const late = (await deliveries(run, "late"))[0];
    expect(late).toMatchObject({ status: "succeeded", attempts: 3, lastStatus: 200 });
    expect(got.late).toHaveLength(3);
    expect(new Set(got.late).size).toBe(1); // the same message id each time: receivers can de-duplicate
    const history = (await admin(run, "GET", `/webhooks/deliveries/${late.id}`)).json.history;
    expect(history.map((h: any) => h.status)).toEqual([503, 503, 200]);
    expect(Date.parse(history[1].at) - Date.parse(history[0].at)).toBeGreaterThanOrEqual(5_000);
    expect(Date.parse(history[2].at) - Date.parse(history[1].at)).toBeGreaterThanOrEqual(300_000);

    // The 500 receiver runs through the whole schedule, then the message is marked failed, not lost.
    await advance(run, "2d");
    const failed = (await deliveries(run, "500"))[0];
    expect(failed).toMatchObject({ status: "failed", attempts: 8 });
    expect(got["500"]).toHaveLength(8);
    // Succeeded deliveries were never sent again.
    expect(got.huge).toHaveLength(1);
    expect(got.late).toHaveLength(3);

    // A redelivery request sends it once more, now.
    const again = await admin(run, "POST", `/webhooks/deliveries/${(await deliveries(run, "huge"))[0].id}/redeliver`);
    expect(again.json).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(got.huge).toHaveLength(2);
    // The world still answers at once after all of it.
    expect((await resend.emails.list()).data!.data).toHaveLength(1);
  }, 60_000);
});
