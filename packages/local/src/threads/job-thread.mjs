// A job thread's entry: TypeScript compiled on load (as bin/backing.mjs does), then the worker itself.
import { register } from "tsx/esm/api";

register();
await import("./job-thread.ts");
