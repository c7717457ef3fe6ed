import { defineConfig } from "vitest/config";

/**
 * Two projects: `unit` is pure (no DynamoDB Local, no processes), `integration` (test/integration
 * and test/e2e) shares one DynamoDB Local started by the global setup. `npm test` runs both;
 * `npx vitest run --project unit` runs the fast ones alone.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    // Node 20 is supported here (README, Toolchain): the SDK's notice about 2027 is known.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          globalSetup: ["test/integration/global-setup.ts"],
        },
      },
    ],
  },
});
