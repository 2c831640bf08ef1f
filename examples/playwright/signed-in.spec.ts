// A browser test of an app signed in through the auth clone, with the Playwright fixture.
import { createClerkClient } from "@clerk/backend";
import { test, expect } from "../../src/sdk/playwright.ts";
import { startApp } from "./app.ts";

test.use({ runOptions: { kinds: ["auth"] } });

test("greets the signed-in user, and asks a stranger to sign in", async ({ run, page, context }) => {
  const app = await startApp(run.env);
  try {
    await page.goto(app.url);
    await expect(page.getByRole("heading")).toHaveText("Please sign in");

    const clerk = createClerkClient(run.auth.config);
    const user = await clerk.users.createUser({ emailAddress: ["ada@example.test"], password: "correct horse battery staple" });
    const session = await run.signIn(user.id, { origin: app.url });
    await context.addCookies(Object.entries(session.cookies).map(([name, value]) => ({ name, value, url: app.url })));

    await page.goto(app.url);
    await expect(page.getByRole("heading")).toHaveText("Hello, ada@example.test");
  } finally {
    await app.close();
  }
});
