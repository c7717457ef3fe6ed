/** A state write lost a race: someone else wrote the account's state first. Re-read and redo. */
export class VersionConflictError extends Error {
  constructor(
    readonly accountId: string,
    options?: { cause?: unknown },
  ) {
    super(`risk state of ${accountId} changed concurrently`, options);
    this.name = "VersionConflictError";
  }
}

/** A price event batch that failed validation: nothing was written. */
export class PriceEventInputError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid price event:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`);
    this.name = "PriceEventInputError";
  }
}

/** Bad endpoint registration input: the URL is refused or the types are unknown. */
export class EndpointInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EndpointInputError";
  }
}

/** An account id another venue already holds: a venue cannot take it (nor learn more about it). */
export class AccountIdTakenError extends Error {
  constructor(readonly accountId: string) {
    super(`account id ${accountId} is taken`);
    this.name = "AccountIdTakenError";
  }
}

/** An account document that could never be evaluated (DESIGN §3.2's checks no price can cure): nothing is stored. */
export class AccountInputError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`account refused:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`);
    this.name = "AccountInputError";
  }
}

/** A funding event request refused as a whole (malformed, out of order, nothing to settle at): nothing was written. */
export class FundingEventInputError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid funding event:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`);
    this.name = "FundingEventInputError";
  }
}
