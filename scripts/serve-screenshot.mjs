// Takes docs/serve-screenshot.png: the web page of a running `watchnext serve` (or quickstart) with
// one user's recommendations, and optionally the model card, in Debian's Chromium through
// playwright-core.
//
//   node scripts/serve-screenshot.mjs http://127.0.0.1:8080 196 docs/serve-screenshot.png docs/serve-model-card.png
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url = "http://127.0.0.1:8080", user = "196", out = "docs/serve-screenshot.png", cardOut] =
  process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "watchnext-screenshot-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 1000 },
  deviceScaleFactor: 1,
  colorScheme: "light",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${url}/`);
  await page.fill("#user-id", user);
  await page.click("#user-form button[type=submit]");
  await page.waitForSelector("#recs > li[data-item]");
  await page.waitForSelector("#history > li[data-item]");
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
  if (cardOut) {
    await page.click("#tab-model");
    await page.waitForSelector("#model-card figure.chart svg");
    await page.screenshot({ path: cardOut, fullPage: true });
    console.log(`wrote ${cardOut}`);
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
