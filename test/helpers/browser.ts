import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { ROOT } from "./cli.ts";

/** Debian's chromium (installed by .ci/run); Playwright's own browser download cannot run here. */
const CHROMIUM = process.env.BACKING_CHROMIUM ?? "/usr/bin/chromium";
export const ARTIFACTS = join(ROOT, "test", "artifacts");

/** Headless Chromium kept off the network by its flags: this machine refuses everything but loopback. */
export function launchChromium() {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A page that records console errors, page errors and every request that is not to a file. */
export async function watchedPage(browser: Browser, options: Parameters<Browser["newPage"]>[0]) {
  const page = await browser.newPage(options);
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("request", (request) => {
    if (!request.url().startsWith("file:")) requests.push(request.url());
  });
  return { page, errors, requests };
}
