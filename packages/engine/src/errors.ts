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
