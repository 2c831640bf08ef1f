// Starts one in-memory runner for the e2e project on free ports and hands its URLs to the tests.
import net from "node:net";
import type { TestProject } from "vitest/node";
import { readConfig } from "../../src/runner/config.ts";
import { startServer, type Running } from "../../src/runner/server.ts";

export const ORG_KEY = "e2e-default-org-key-0123456789";
export const TINY_KEY = "e2e-tiny-org-key-0123456789";
export const OTHER_KEY = "e2e-other-org-key-0123456789";
export const STATIC_TOKEN = "e2e-static-mcp-token-0123456789";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

let running: Running | null = null;

export default async function setup(project: TestProject) {
  const ports = await Promise.all([0, 1, 2, 3, 4, 5].map(() => freePort()));
  const env: NodeJS.ProcessEnv = {
    MOLAR_CLONES_ADDR: `127.0.0.1:${ports[0]}`,
    MOLAR_CLONE_STRIPE_ADDR: `127.0.0.1:${ports[1]}`,
    MOLAR_CLONE_TWILIO_ADDR: `127.0.0.1:${ports[2]}`,
    MOLAR_CLONE_EMAIL_ADDR: `127.0.0.1:${ports[3]}`,
    MOLAR_CLONE_AUTH_ADDR: `127.0.0.1:${ports[4]}`,
    MOLAR_CLONE_S3_ADDR: `127.0.0.1:${ports[5]}`,
    MOLAR_CLONES_API_TOKEN: ORG_KEY,
    // The suite presents wrong keys on purpose, from one loopback address.
    MOLAR_AUTH_FAILURES_PER_MINUTE: "1000000",
    MOLAR_STATIC_TOKEN: STATIC_TOKEN,
    // Receivers that never answer are given up on quickly (test/e2e/delivery-faults.test.ts).
    MOLAR_WEBHOOK_TIMEOUT_MS: "1500",
    // The suite spawns a few hundred runs in the default org and tears few down; quotas are tested in org "tiny".
    MOLAR_QUOTA_CONCURRENT_RUNS: "5000",
    MOLAR_CLONES_ORGS: JSON.stringify({
      tiny: { key: TINY_KEY, concurrentRuns: 2, requestsPerMinute: 5, storedBytes: 64 * 1024 * 1024 },
      other: { key: OTHER_KEY },
    }),
  };
  running = await startServer(readConfig(env, ["--in-memory"]));
  project.provide("urls", running.urls);
  project.provide("orgKey", ORG_KEY);
  project.provide("tinyKey", TINY_KEY);
  project.provide("otherKey", OTHER_KEY);
  return async () => {
    await running?.stop();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    urls: Record<"control" | "stripe" | "twilio" | "email" | "auth" | "s3", string>;
    orgKey: string;
    tinyKey: string;
    otherKey: string;
  }
}
