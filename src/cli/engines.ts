// The CLI's engines, loaded only when used: `molar-clones proxy` (the route proxy, with the env an app needs to use it) and `molar-clones
// serve` (the on-prem engine), each in the foreground until SIGINT/SIGTERM.
import path from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CliError, target } from "./api.ts";
import { ConfigError, KINDS, parseAddr, readConfig, type Kind } from "../runner/config.ts";
import { loadCa } from "../runner/proxy-ca.ts";
import { startProxy, type Proxy } from "../runner/proxy.ts";
import { readServeConfig, serve } from "../runner/serve.ts";

export interface ProxyHandle {
  proxy: Proxy;
  env: Record<string, string>;
}

/** Starts the proxy from env (PROXY_LISTEN_ADDR, PROXY_STRICT, the runner's clone addresses). */
export async function runProxy(env: NodeJS.ProcessEnv, cwd: string, strictFlag: boolean): Promise<ProxyHandle> {
  let listen, clones: Record<Kind, URL>, stateDir: string;
  try {
    listen = parseAddr("PROXY_LISTEN_ADDR", env.PROXY_LISTEN_ADDR ?? "127.0.0.1:8443");
    const cfg = readConfig({ ...env, MOLAR_CLONES_API_TOKEN: undefined, MOLAR_JWT_SECRET: undefined }, [], cwd);
    clones = {} as Record<Kind, URL>;
    for (const k of KINDS) {
      const given = env[`MOLAR_CLONE_${k.toUpperCase()}_URL`];
      const a = cfg.vendors[k];
      clones[k] = new URL(given ?? `http://${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`);
    }
    stateDir = cfg.stateDir;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof TypeError) throw new CliError(e.message, "fix the setting named above", 2);
    throw e;
  }
  const strict = strictFlag || env.PROXY_STRICT === "1";
  const ca = await loadCa(path.join(stateDir, "proxy"));
  // Refusals are counted by the control plane when it can be reached with a key; the proxy works without it.
  let ctl: { url: string; key: string } | null = null;
  try {
    ctl = target(env, cwd);
  } catch {
    ctl = null;
  }
  const onRefuse = (host: string, why: string) => {
    if (!ctl) return;
    fetch(`${ctl.url}/v1/refusals`, {
      method: "POST",
      headers: { authorization: `Bearer ${ctl.key}`, "content-type": "application/json", "x-molar-actor": "proxy" },
      body: JSON.stringify({ host, why }),
    }).then((r) => r.body?.cancel(), () => undefined);
  };
  let proxy: Proxy;
  try {
    proxy = await startProxy({ listen, ca, clones, strict, onRefuse });
  } catch (e) {
    throw new CliError(`PROXY_LISTEN_ADDR ${listen.host}:${listen.port}: ${(e as Error).message}`, "pick a free address with PROXY_LISTEN_ADDR=host:port", 2);
  }
  const url = `http://${listen.host}:${proxy.port}`;
  // NODE_USE_ENV_PROXY makes fetch and Node's global agents use HTTPS_PROXY; the preload covers
  // agents a library makes itself (stripe-node does).
  // Beside the bundled CLI in the published package, in src/runner from a checkout.
  const bootstrap = ["./proxy-register.cjs", "../runner/proxy-register.cjs"].map((p) => fileURLToPath(import.meta.resolve(p))).find((f) => existsSync(f))!;
  return {
    proxy,
    env: {
      HTTPS_PROXY: url,
      HTTP_PROXY: url,
      NO_PROXY: "",
      NODE_EXTRA_CA_CERTS: ca.certPath,
      NODE_USE_ENV_PROXY: "1",
      NODE_OPTIONS: `--require=${bootstrap}`,
    },
  };
}

export async function proxyCommand(env: NodeJS.ProcessEnv, cwd: string, strict: boolean, json: boolean): Promise<void> {
  const { proxy, env: appEnv } = await runProxy(env, cwd, strict);
  if (json) console.log(JSON.stringify({ port: proxy.port, env: appEnv }));
  else {
    console.log(`molar-clones proxy listening on port ${proxy.port}${strict || env.PROXY_STRICT === "1" ? " (strict)" : ""}. Give the app under test:`);
    for (const [k, v] of Object.entries(appEnv)) console.log(`  ${k}=${/\s/.test(v) || v === "" ? JSON.stringify(v) : v}`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => proxy.close().then(resolve);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

export async function serveCommand(env: NodeJS.ProcessEnv, cwd: string, flags: Record<string, string | boolean | undefined>): Promise<void> {
  let s;
  try {
    const cfg = readServeConfig(env, { kind: typeof flags.kind === "string" ? flags.kind : undefined, inMemory: flags["in-memory"] === true }, cwd);
    s = await serve(cfg);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, "fix the setting named above", 2);
    throw e;
  }
  if (flags.json === true) console.log(JSON.stringify({ urls: s.urls, run: s.run }));
  else if (s.run) {
    console.log(`Molar Clones is serving one clone.\n  api        ${s.urls.clone}\n  admin      ${s.urls.admin}  (Authorization: Bearer ${env.MOLAR_CLONE_ADMIN_TOKEN ? "$MOLAR_CLONE_ADMIN_TOKEN" : s.adminToken})\n\nThe app's env (also GET {admin}/run):`);
    for (const [k, v] of Object.entries(s.run.env as Record<string, string>)) console.log(`  ${k}=${k.endsWith("ADMIN_TOKEN") && env.MOLAR_CLONE_ADMIN_TOKEN ? "$MOLAR_CLONE_ADMIN_TOKEN" : v}`);
  } else {
    console.log("Molar Clones is serving.");
    for (const [k, v] of Object.entries(s.urls)) console.log(`  ${k.padEnd(10)} ${v}`);
    console.log(`  ${"api key".padEnd(10)} ${env.MOLAR_CLONES_API_TOKEN ? "(MOLAR_CLONES_API_TOKEN)" : s.apiToken}`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => s.stop().then(resolve);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
