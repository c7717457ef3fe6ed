/** The asset classes whose risk is a peg rather than a market move. One list for every model. */

/** Stablecoins: pegged to 1 USD. */
export const STABLECOINS: ReadonlySet<string> = new Set(["USDC", "USDT", "DAI"]);

/** Liquid staking tokens and the asset each stakes: priced as a ratio to it (its peg). */
export const LST_REFERENCE: Readonly<Record<string, string>> = { stETH: "ETH", wstETH: "ETH" };

/** Stablecoins and liquid staking tokens: collateral whose risk is a depeg, not a market move. */
export const DEPEG_ASSETS: ReadonlySet<string> = new Set([...STABLECOINS, ...Object.keys(LST_REFERENCE)]);
