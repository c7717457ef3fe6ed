import { ScenarioPack } from "@backing/contracts";
import { PortfolioInputError } from "@backing/core";
import { describe, expect, it } from "vitest";
import { accountDocument, parse, perp, portfolioDocument } from "../helpers/portfolio.ts";

function issuesOf(document: unknown) {
  try {
    parse(document);
  } catch (error) {
    if (error instanceof PortfolioInputError) return error.issues;
    throw error;
  }
  throw new Error("test failure: the document was accepted");
}

describe("a portfolio document with a field it does not know", () => {
  it("is refused, and the error names each unknown field by its path", () => {
    const option = {
      instrument: "BTC-20260327-110000-C",
      type: "option",
      underlying: "BTC",
      optionType: "call",
      strike: "110000",
      expiry: "2026-03-27T08:00:00Z",
      size: "-3",
      markPrise: "2100",
    };
    const issues = issuesOf(
      portfolioDocument({
        volatilty: { BTC: "0.5" },
        prices: { BTC: { index: "100000", mrak: "100050" }, USDC: { index: "1" } },
        accounts: [
          accountDocument({
            collateral: { USDC: "1000" },
            positions: [perp("BTC", "1", "98000", { fundng: "-12.5" }), option],
            marginMod: "portfolio",
          }),
        ],
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: "volatilty", message: "unknown field" },
        { path: "prices.BTC.mrak", message: "unknown field" },
        { path: "accounts[0].marginMod", message: "unknown field" },
        { path: "accounts[0].positions[0].fundng", message: "unknown field" },
        { path: "accounts[0].positions[1].markPrise", message: "unknown field" },
      ]),
    );
    expect(issues).toHaveLength(5);
  });
});

describe("a scenario's provenance", () => {
  const pack = (provenance: unknown) => ({
    id: "p",
    version: "1",
    scenarios: [{ id: "S", name: "s", type: "hypothetical", horizon: "P1D", shocks: {}, provenance }],
  });

  it("may be a list of source keys, as the reference pack writes it", () => {
    const parsed = ScenarioPack.parse(pack(["R30", "R31"]));
    expect(parsed.scenarios[0]?.provenance).toEqual({ sources: ["R30", "R31"] });
  });

  it("or an object with sources, confidence and notes; anything else is refused", () => {
    const parsed = ScenarioPack.parse(pack({ sources: ["R30"], confidence: "B" }));
    expect(parsed.scenarios[0]?.provenance).toEqual({ sources: ["R30"], confidence: "B" });
    expect(ScenarioPack.safeParse(pack("R30")).success).toBe(false);
    expect(ScenarioPack.safeParse(pack([1, 2])).success).toBe(false);
  });
});
