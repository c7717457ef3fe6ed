import { exposureReport } from "@backing/core";
import { exposureHtml } from "@backing/reports/exposure";
import { describe, expect, it } from "vitest";
import { accountDocument, parse, perp, portfolioDocument } from "../helpers/portfolio.ts";

/** The "Move to it" cell of an account's row in the closest-to-liquidation table. */
function moveToIt(html: string, account: string): string | undefined {
  const row = html
    .split("<tr>")
    .find((r) => r.includes(`>${account}</td>`) && r.includes('data-label="Move to it"'));
  return /data-label="Move to it">([^<]*)</.exec(row ?? "")?.[1];
}

describe("the exposure page's closest-to-liquidation table", () => {
  // BTC 100,000, 1 BTC at the mark: MM = 0.005 × p − 50 (tier 2).
  // long on 20,000: 20,000 + p − 100,000 = 0.005p − 50 → p = 79,950 / 0.995 = 80,351.76: a fall of 19.65 %.
  // short on 100: 100 + 100,000 − p = 0.005p − 50 → p = 100,150 / 1.005 = 99,651.74, below the mark:
  // the short is already past it (equity 100 < MM 450) by 0.35 %.
  const { report } = exposureReport(
    parse(
      portfolioDocument({
        accounts: [
          accountDocument({
            id: "long",
            collateral: { USDC: "20000" },
            positions: [perp("BTC", "1", "100000")],
          }),
          accountDocument({
            id: "short",
            collateral: { USDC: "100" },
            positions: [perp("BTC", "-1", "100000")],
          }),
        ],
      }),
    ),
  );
  const html = exposureHtml(report);

  it("signs the move by its direction and says 'past by' for an account beyond its liquidation price", () => {
    expect(moveToIt(html, "long")).toBe("−19.65%");
    expect(moveToIt(html, "short")).toBe("past by 0.35%");
    expect(html).toContain("Move to it: the change in the asset's price");
  });

  it("prints collateral amounts as given, without padded decimals", () => {
    expect(html).toMatch(/data-label="Amount">20,100</);
  });
});
