// `npm start`: runs the clones, the control API and the dashboard in the foreground.
import { ConfigError, readConfig } from "./config.ts";
import { startServer } from "./server.ts";

try {
  const cfg = readConfig(process.env, process.argv.slice(2));
  const s = await startServer(cfg);
  const line = (k: string, v: string) => console.log(`  ${k.padEnd(10)} ${v}`);
  console.log("Molar Clones is running.");
  line("control", `${s.urls.control}  (control API, admin API, dashboard)`);
  for (const k of ["stripe", "twilio", "email", "auth", "s3"] as const) line(k, s.urls[k]);
  line("state", s.persist ? s.stateDir : "in memory (nothing is kept)");
  console.log(`  ${"api key".padEnd(10)} ${cfg.apiToken ? "(MOLAR_CLONES_API_TOKEN)" : s.apiToken}`);
  console.log(`\nSpawn a run:\n  curl -s -X POST -H "Authorization: Bearer ${cfg.apiToken ? "$MOLAR_CLONES_API_TOKEN" : s.apiToken}" ${s.urls.control}/v1/runs`);
  const stop = async () => {
    await s.stop();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`molar-clones: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
