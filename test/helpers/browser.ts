import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
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
