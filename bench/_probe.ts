import { startHello } from "/work/main/bench/baselines.ts";
import { freePorts, load } from "/work/main/bench/lib.ts";
const [p] = await freePorts(1);
const h = await startHello(p);
console.log("url", h.url);
for (const c of [1, 4, 10, 16]) {
  const m = await load({ url: h.url + "/", connections: c, duration: 3, warmup: 1 });
  console.log(c, m.p50?.toFixed(3), m.p99?.toFixed(3), Math.round(m.rps!));
}
if (process.env.HOLD) await new Promise(r => setTimeout(r, Number(process.env.HOLD)));
await h.stop();
