/** The stored accounts as domain books, at a snapshot's prices. */
import type { Account } from "@backing/contracts";
import { type AccountBook, type PortfolioInputError, parsePortfolio, type RiskParams } from "@backing/core";
import type { PriceSnapshot } from "../ports/index.ts";
import { evaluationPrices, snapshotPrices, volatilityOf } from "./snapshot.ts";

/**
 * Domain books by stored account document: a book does not depend on prices, so it is parsed once.
 * A perp that settles against cumulative funding carries its venue's F, so such a book is parsed
 * again when its venue's F moved (`funding`: the F it was parsed at).
 */
const parsedBooks = new WeakMap<Account, { book: AccountBook; funding: string }>();

const settlesAgainstFunding = (account: Account) =>
  account.positions.some((p) => p.type === "perp" && p.fundingIndex !== undefined);

/**
 * The market of the snapshot and the domain books of the stored accounts. A stored account that no
 * longer validates (an instrument expired, a price missing) is reported, not fatal.
 */
export function parseBooks(
  accounts: Account[],
  snapshot: PriceSnapshot,
  nowMs: number,
  params: RiskParams,
  volatility: Record<string, string>,
) {
  const { prices } = evaluationPrices(snapshotPrices(snapshot), params);
  const parseWith = (list: Account[]) =>
    parsePortfolio(
      {
        asOf: new Date(nowMs).toISOString(),
        prices,
        volatility: volatilityOf(snapshot, volatility),
        cumulativeFunding: snapshot.funding ?? {},
        accounts: list,
      },
      params.document,
    );
  const { market } = parseWith([]);
  const fundingOf = (account: Account) =>
    settlesAgainstFunding(account) ? JSON.stringify(snapshot.funding?.[account.venue] ?? {}) : "";
  const cachedBook = (account: Account) => {
    const cached = parsedBooks.get(account);
    return cached && cached.funding === fundingOf(account) ? cached.book : undefined;
  };
  const invalid: { accountId: string; venue: string; message: string }[] = [];
  const books: AccountBook[] = [];
  const unparsed = accounts.filter((account) => !cachedBook(account));
  const parseOne = (account: Account) => {
    try {
      const [book] = parseWith([account]).accounts;
      if (book) parsedBooks.set(account, { book, funding: fundingOf(account) });
    } catch (error) {
      const issues = (error as PortfolioInputError).issues ?? [];
      invalid.push({
        accountId: account.id,
        venue: account.venue,
        // Paths within the account (the document it was parsed in held it alone).
        message: issues.map((i) => `${i.path.replace(/^accounts\[0\]\./, "")}: ${i.message}`).join("; "),
      });
    }
  };
  try {
    parseWith(unparsed).accounts.forEach((book, i) => {
      const account = unparsed[i] as Account;
      parsedBooks.set(account, { book, funding: fundingOf(account) });
    });
  } catch {
    unparsed.forEach(parseOne);
  }
  for (const account of accounts) {
    const book = cachedBook(account);
    if (!book) continue;
    const expired = book.positions.find(
      (p) => (p.kind === "option" ? p.expiryMs : (p.expiryMs ?? Infinity)) <= nowMs,
    );
    const unpriced = firstAsset(book, (asset) => !market.quotes.has(asset));
    const { id: accountId, venue } = account;
    if (expired) invalid.push({ accountId, venue, message: `${expired.instrument} has expired` });
    else if (unpriced) invalid.push({ accountId, venue, message: `no price for ${unpriced}` });
    else books.push(book);
  }
  return { market, books, invalid };
}

/** The first asset the book depends on (collateral, then underlyings) that matches. No allocation: hot path. */
export function firstAsset(book: AccountBook, matches: (asset: string) => boolean): string | undefined {
  for (const c of book.collateral) if (matches(c.asset)) return c.asset;
  for (const p of book.positions) if (matches(p.underlying)) return p.underlying;
  return undefined;
}
