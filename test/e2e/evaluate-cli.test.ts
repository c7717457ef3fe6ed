import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { EvaluationOutput } from "@backing/contracts";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.ts";

const EXAMPLE = "test/fixtures/portfolio-example.json";

async function exampleDocument() {
  return JSON.parse(await readFile(join(ROOT, EXAMPLE), "utf8"));
}

describe("backing evaluate", () => {
  it("prints DESIGN §3.2's output for the example portfolio, numbers derived by hand", async () => {
    const { code, stdout, stderr } = await runCli(["evaluate", EXAMPLE]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const output = EvaluationOutput.parse(JSON.parse(stdout));
    // Collateral: 250,000 USDC + 1.5 BTC × 100,000 × 0.95 − 1,000 USDT × 1.1 = 391,400.
    // uPnL: perp 2 × (100,050 − 98,000) − 12.5 = 4,087.5; future −1 × (100,050 − 101,000) = 950.
    // Options: −3 × 2,100 = −6,300. Equity 390,137.5.
    // IM: 200,100/100 + 100,050/100 + 3 × (max(15,007.5 − 9,950, 10,005) + 2,100) = 2,001 + 1,000.5 + 36,315.
    // MM: (1,000.5 − 50) + (500.25 − 50) + 3 × (7,503.75 + 2,100) = 950.5 + 450.25 + 28,811.25.
    // Ratio 30,212 / 390,137.5 = 0.0774393…, up at 8 dp.
    expect(output).toEqual({
      asOf: "2026-01-15T00:00:00Z",
      paramsVersion: "2026-01-15",
      accounts: [
        {
          id: "a-1",
          venue: "venue-a",
          status: "HEALTHY",
          collateralValue: "391400",
          unrealizedPnl: "5037.5",
          optionValue: "-6300",
          equity: "390137.5",
          initialMargin: "39316.5",
          maintenanceMargin: "30212",
          marginRatio: "0.07743937",
          callAmount: "0",
          positions: [
            expect.objectContaining({
              instrument: "BTC-PERP",
              notional: "200100",
              unrealizedPnl: "4087.5",
              initialMargin: "2001",
              maintenanceMargin: "950.5",
            }),
            expect.objectContaining({
              instrument: "BTC-20260327",
              notional: "100050",
              unrealizedPnl: "950",
              initialMargin: "1000.5",
              maintenanceMargin: "450.25",
            }),
            expect.objectContaining({
              instrument: "BTC-20260327-110000-C",
              notional: "300150",
              initialMargin: "36315",
              maintenanceMargin: "28811.25",
              liquidationPrice: null,
            }),
          ],
        },
      ],
    });
  });

  it("reads the document from stdin with -", async () => {
    const document = await exampleDocument();
    const { code, stdout } = await runCli(["evaluate", "-"], { stdin: JSON.stringify(document) });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).accounts[0].equity).toBe("390137.5");
  });

  it("prints a table with --format table", async () => {
    const { code, stdout } = await runCli(["evaluate", EXAMPLE, "--format", "table"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^id\s+venue\s+status\s+equity/m);
    expect(stdout).toMatch(/^a-1\s+venue-a\s+HEALTHY\s+390137\.5\s+39316\.5\s+30212\s+0\.07743937\s+0$/m);
  });

  it("adds the arithmetic with --explain", async () => {
    const { code, stdout } = await runCli(["evaluate", EXAMPLE, "--explain"]);
    expect(code).toBe(0);
    const [account] = JSON.parse(stdout).accounts;
    const btc = account.explain.collateral.find((c: { asset: string }) => c.asset === "BTC");
    expect(btc).toMatchObject({
      usdValue: "150000",
      counted: "142500",
      slices: [{ from: "0", to: "150000", haircut: "0.05", counted: "142500" }],
    });
    expect(account.explain.positions[0].bracket).toMatchObject({ number: 2, mmr: "0.005", cum: "50" });
    expect(account.explain.thresholds).toMatchObject({
      liquidationBelow: "30212",
      marginCallBelow: "39316.5",
      warningBelow: "47179.8",
    });
  });

  it("shows --help and exits 0", async () => {
    const { code, stdout } = await runCli(["evaluate", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: backing evaluate <file|->");
  });
});

// biome-ignore lint/suspicious/noExplicitAny: each case pokes a different corner of free-form JSON.
type Mutation = (document: Record<string, any>) => void;

const BAD_INPUTS: [string, Mutation, string, RegExp][] = [
  [
    "a non-numeric string",
    (d) => {
      d.accounts[0].positions[2].strike = "abc";
    },
    "accounts[0].positions[2].strike",
    /expected a positive decimal string/,
  ],
  [
    "a JSON number for an amount",
    (d) => {
      d.accounts[0].collateral.USDC = 250000;
    },
    "accounts[0].collateral.USDC",
    /expected a decimal string/,
  ],
  [
    "a negative price",
    (d) => {
      d.prices.BTC.index = "-100000";
    },
    "prices.BTC.index",
    /non-negative/,
  ],
  [
    "an unknown collateral asset",
    (d) => {
      d.accounts[0].collateral.DOGE = "5";
      d.prices.DOGE = { index: "0.1" };
    },
    "accounts[0].collateral.DOGE",
    /unknown collateral asset DOGE/,
  ],
  [
    "a missing price",
    (d) => {
      delete d.prices.USDT;
    },
    "accounts[0].collateral.USDT",
    /no price for USDT: add prices\.USDT/,
  ],
  [
    "an unknown underlying",
    (d) => {
      d.accounts[0].positions[0].underlying = "XRP";
      d.prices.XRP = { index: "1" };
    },
    "accounts[0].positions[0].underlying",
    /no brackets/,
  ],
  [
    "an expired instrument",
    (d) => {
      d.accounts[0].positions[1].expiry = "2026-01-01T08:00:00Z";
    },
    "accounts[0].positions[1].expiry",
    /expired/,
  ],
  [
    "duplicate account ids",
    (d) => {
      d.accounts.push(structuredClone(d.accounts[0]));
    },
    "accounts[1].id",
    /duplicate account id "a-1"/,
  ],
  [
    "duplicate instruments",
    (d) => {
      d.accounts[0].positions[1].instrument = "BTC-PERP";
    },
    "accounts[0].positions[1].instrument",
    /duplicate instrument/,
  ],
  [
    "an option without markPrice or volatility",
    (d) => {
      delete d.accounts[0].positions[2].markPrice;
      d.volatility = {};
    },
    "accounts[0].positions[2].markPrice",
    /volatility\.BTC/,
  ],
  [
    "an unknown position type",
    (d) => {
      d.accounts[0].positions[0].type = "swap";
    },
    "accounts[0].positions[0].type",
    /perp.*future.*option/,
  ],
  [
    "a bad params override",
    (d) => {
      d.params = { brackets: { BTC: [{ notionalCap: "50000", maxLeverage: "125", mmr: "2" }] } };
    },
    "params.brackets.BTC[0].mmr",
    /between 0 and 1/,
  ],
  [
    "a bad timestamp",
    (d) => {
      d.asOf = "yesterday";
    },
    "asOf",
    /ISO 8601/,
  ],
];

describe("backing evaluate rejects bad input with exit code 2, naming the path", () => {
  it.each(BAD_INPUTS)("%s", async (_, mutate, path, message) => {
    const document = await exampleDocument();
    mutate(document);
    const { code, stdout, stderr } = await runCli(["evaluate", "-"], { stdin: JSON.stringify(document) });
    expect(code).toBe(2);
    expect(stdout).toBe("");
    const line = stderr.split("\n").find((l) => l.trim().startsWith(`${path}:`));
    expect(line, stderr).toBeDefined();
    expect(line).toMatch(message);
  });

  it("reports every problem at once", async () => {
    const document = await exampleDocument();
    document.prices.BTC.index = "x";
    document.accounts[0].collateral.USDC = "1,000";
    const { code, stderr } = await runCli(["evaluate", "-"], { stdin: JSON.stringify(document) });
    expect(code).toBe(2);
    expect(stderr).toContain("(2 problems)");
  });

  it("refuses invalid JSON, a missing file and a missing argument", async () => {
    for (const [args, stdin, text] of [
      [["evaluate", "-"], "{ not json", /not valid JSON/],
      [["evaluate", "no/such/file.json"], "", /cannot read no\/such\/file\.json/],
      [["evaluate"], "", /missing <file\|->/],
      [["evaluate", EXAMPLE, "--format", "xml"], "", /--format must be json or table/],
      [["evaluate", EXAMPLE, "--bogus"], "", /bogus/],
    ] as const) {
      const { code, stdout, stderr } = await runCli([...args], { stdin });
      expect(code, stderr).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toMatch(text);
    }
  });
});

describe("backing", () => {
  it("lists its commands with --help and rejects an unknown one with exit 2", async () => {
    expect((await runCli(["--help"])).stdout).toContain("evaluate <file|->");
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });
});
