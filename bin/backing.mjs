#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on load so a fresh clone runs without a build step.
import { register } from "tsx/esm/api";

// Node 20 is a supported runtime here (README, Toolchain); the SDK's notice that releases after
// January 2027 will need Node 22 is known and would only clutter the demo's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
register();
const { main } = await import("../packages/cli/src/main.ts");
process.exitCode = await main(process.argv.slice(2));
