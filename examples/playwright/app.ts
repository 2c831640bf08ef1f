// A small app under test: one page that greets the signed-in Clerk user, or asks to sign in.
// It is configured only the way a real app would be: CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY,
// CLERK_API_URL (from a run's env block).
import http from "node:http";
import { createClerkClient } from "@clerk/backend";

export function startApp(env: Record<string, string>, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const clerk = createClerkClient({ secretKey: env.CLERK_SECRET_KEY, publishableKey: env.CLERK_PUBLISHABLE_KEY, apiUrl: env.CLERK_API_URL });
  const server = http.createServer(async (req, res) => {
    const url = `http://${req.headers.host}${req.url}`;
    const request = new Request(url, { headers: req.headers as Record<string, string> });
    const state = await clerk.authenticateRequest(request, { authorizedParties: [`http://${req.headers.host}`] });
    res.setHeader("content-type", "text/html; charset=utf-8");
    if (!state.isSignedIn) {
      res.end(`<h1>Please sign in</h1><p>${state.reason ?? ""}</p>`);
      return;
    }
    const user = await clerk.users.getUser(state.toAuth().userId!);
    res.end(`<h1>Hello, ${user.emailAddresses[0]?.emailAddress ?? user.id}</h1>`);
  });
  return new Promise((resolve) =>
    server.listen(port, "127.0.0.1", () => {
      const { port: p } = server.address() as import("node:net").AddressInfo;
      resolve({ url: `http://127.0.0.1:${p}`, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}
