import { CRASHES } from "./crashes.ts";
import { ftx2022Path } from "./ftx-2022.ts";
import type { ShippedPath } from "./path.ts";

export type { PathPoint, ShippedPath } from "./path.ts";

/** The shipped hourly crash paths (`backing replay --list`; the demo replays one of them). */
export const SCENARIOS: Record<string, ShippedPath> = {
  "ftx-2022": {
    description: "FTX/Alameda collapse, 2022-11-06 → 11-14, hourly",
    provenance: {
      sources:
        "reference §1.1 E5 and §1.2 (R30–R33): BTC −11% on 11/8 and −13% on 11/9, high $21,053, low $15,682; ETH high $1,634, low $1,083; SOL −47% to −60% over the week; USDT $0.97 on 11/10",
      sampled: "the highs and lows above and the daily moves of 11/8 and 11/9",
      interpolated:
        "hours between the daily anchors are linear; stETH tracks ETH at a 1% discount and SOL's path inside the week's range are assumptions",
    },
    path: ftx2022Path,
  },
  ...CRASHES,
};
