// The control origin's front page. The dashboard (sessions, workspace, explorers) is its own
// issue; until it lands this page says so plainly and points at what works.
export function homePage(origin: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Molar Clones</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#111}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>Molar Clones</h1><p>The control API is up: <a href="/healthz"><code>GET /healthz</code></a>.</p>
<p>Spawn a run: <code>curl -X POST -H "Authorization: Bearer $KEY" ${origin}/v1/runs</code></p>
<p>The dashboard (sessions, request stream, webhooks, clock, chaos, snapshots, inbox) is not built yet.</p></body></html>`;
}
