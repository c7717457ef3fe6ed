import { evaluatePortfolio } from "@backing/core";
import { describe, expect, it } from "vitest";
import { accountDocument, parse, perp, portfolioDocument } from "../helpers/portfolio.ts";

// Long 1 BTC perp at mark = entry = 10,000: notional 10,000 in tier 1 → IM = 10,000/125 = 80,
// MM = 0.4% = 40; warning below IM × 1.2 = 96. Equity = the USDC balance.
function evaluateWithCollateral(usdc: string) {
  const document = portfolioDocument({
    prices: { BTC: { index: "10000" }, USDC: { index: "1" } },
    accounts: [accountDocument({ collateral: { USDC: usdc }, positions: [perp("BTC", "1", "10000")] })],
  });
  const [account] = evaluatePortfolio(parse(document)).accounts;
  if (!account) throw new Error("no account");
  return account;
}

describe("status thresholds", () => {
  it.each([
    ["39.99999999", "LIQUIDATION"],
    ["40", "MARGIN_CALL"],
    ["79.99999999", "MARGIN_CALL"],
    ["80", "WARNING"],
    ["95.99999999", "WARNING"],
    ["96", "HEALTHY"],
  ])("equity %s → %s", (usdc, status) => {
    expect(evaluateWithCollateral(usdc).status).toBe(status);
  });

  it("call amount is IM − equity, and zero once equity covers IM", () => {
    expect(evaluateWithCollateral("40").callAmount).toBe("40");
    expect(evaluateWithCollateral("79.99999999").callAmount).toBe("0.00000001");
    expect(evaluateWithCollateral("80").callAmount).toBe("0");
  });

  it("margin ratio is MM / equity, rounded up at 8 dp, null when equity ≤ 0", () => {
    expect(evaluateWithCollateral("80").marginRatio).toBe("0.5");
    // 40 / 30 = 1.3333… → 1.33333334
    expect(evaluateWithCollateral("30").marginRatio).toBe("1.33333334");
    expect(evaluateWithCollateral("0").marginRatio).toBeNull();
    expect(evaluateWithCollateral("-5").marginRatio).toBeNull();
  });

  it("an account without positions and with non-negative equity is HEALTHY", () => {
    const document = portfolioDocument({ accounts: [accountDocument({ collateral: { USDC: "0" } })] });
    expect(evaluatePortfolio(parse(document)).accounts[0]?.status).toBe("HEALTHY");
  });

  it("an account with only a loan is in LIQUIDATION (equity < MM = 0)", () => {
    const document = portfolioDocument({ accounts: [accountDocument({ collateral: { USDT: "-10" } })] });
    const [account] = evaluatePortfolio(parse(document)).accounts;
    expect(account?.status).toBe("LIQUIDATION");
    expect(account?.equity).toBe("-11");
  });

  it("the warning buffer follows the params override", () => {
    const document = portfolioDocument({
      prices: { BTC: { index: "10000" }, USDC: { index: "1" } },
      params: { status: { warningBuffer: "0.5" } },
      accounts: [accountDocument({ collateral: { USDC: "100" }, positions: [perp("BTC", "1", "10000")] })],
    });
    // 100 < 80 × 1.5 = 120
    expect(evaluatePortfolio(parse(document)).accounts[0]?.status).toBe("WARNING");
  });
});

describe("output rounding (8 dp: requirements up, values down)", () => {
  it("rounds IM up and equity down", () => {
    // Notional 1 × 10,000.000000005 → IM = 80.00000000004 → 80.00000001; PnL = 0.000000005 → equity floor
    const document = portfolioDocument({
      prices: { BTC: { index: "10000.000000005" }, USDC: { index: "1" } },
      accounts: [accountDocument({ collateral: { USDC: "1000" }, positions: [perp("BTC", "1", "10000")] })],
    });
    const [account] = evaluatePortfolio(parse(document)).accounts;
    expect(account?.initialMargin).toBe("80.00000001");
    expect(account?.maintenanceMargin).toBe("40.00000001");
    expect(account?.equity).toBe("1000");
    expect(account?.unrealizedPnl).toBe("0");
  });
});
