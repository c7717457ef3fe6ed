/**
 * The price history `backing replay` runs (DESIGN §3.12): NDJSON price and funding events, or CSV
 * `timestamp,asset,index[,mark]`. Everything is checked before anything runs; a bad line is named
 * by file, line and field, so a risk team can fix its export.
 */
import { FundingEvent, issuesFromZod, PriceEvent } from "@backing/contracts";

export interface ReplayStep {
  timestamp: string;
  timeMs: number;
  prices: PriceEvent[];
  funding: FundingEvent[];
}

export class ReplayInputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    detail: string,
  ) {
    super(`${file}:${line}: ${field}: ${detail}`);
    this.name = "ReplayInputError";
  }
}

const DECIMAL = /^(0|[1-9]\d{0,17})(\.\d{1,18})?$/;
const CSV_COLUMNS = ["timestamp", "asset", "index", "mark"] as const;

/**
 * Parses an events file into steps: the events of one timestamp form one step, in file order.
 * `knownAssets`: the assets the portfolio prices; an event on any other asset is refused.
 * `asOf`: the portfolio's time, at which its cumulative funding stands; a funding event before it
 * would be refused by the engine halfway through the run, so it is refused here.
 */
export function parseReplayEvents(
  text: string,
  file: string,
  knownAssets: ReadonlySet<string>,
  asOf?: string,
): ReplayStep[] {
  const asOfMs = asOf ? Date.parse(asOf) : Number.NEGATIVE_INFINITY;
  const lines = text.split(/\r?\n/);
  // A CSV line never starts with "{": the content decides, whatever the file is called.
  const csv = !lines
    .find((l) => l.trim() !== "")
    ?.trim()
    .startsWith("{");
  const events: { timeMs: number; timestamp: string; price?: PriceEvent; funding?: FundingEvent }[] = [];
  let lastMs = Number.NEGATIVE_INFINITY;
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    if (raw.trim() === "") continue;
    const event = csv ? csvEvent(raw, file, line) : jsonEvent(raw, file, line);
    if (event === null) continue;
    const asset = event.price?.asset ?? event.funding?.asset ?? "";
    if (!knownAssets.has(asset))
      throw new ReplayInputError(
        file,
        line,
        "asset",
        `unknown asset "${asset}": the portfolio prices ${[...knownAssets].sort().join(", ")}`,
      );
    const timestamp = event.price?.timestamp ?? event.funding?.fundingTime ?? "";
    const timeMs = Date.parse(timestamp);
    if (timeMs < lastMs)
      throw new ReplayInputError(
        file,
        line,
        csv ? "timestamp" : event.price ? "timestamp" : "fundingTime",
        `${timestamp} is before the previous event's ${new Date(lastMs).toISOString()}: events must be in time order`,
      );
    if (event.funding && timeMs < asOfMs)
      throw new ReplayInputError(
        file,
        line,
        "fundingTime",
        `${timestamp} is before the portfolio's asOf ${asOf}, where its cumulative funding stands`,
      );
    lastMs = timeMs;
    events.push({ timeMs, timestamp: new Date(timeMs).toISOString(), ...event });
  }
  if (events.length === 0) throw new ReplayInputError(file, 1, "(file)", "no events");
  const steps: ReplayStep[] = [];
  for (const event of events) {
    let step = steps[steps.length - 1];
    if (!step || step.timeMs !== event.timeMs) {
      step = { timestamp: event.timestamp, timeMs: event.timeMs, prices: [], funding: [] };
      steps.push(step);
    }
    if (event.price) step.prices.push(event.price);
    if (event.funding) step.funding.push(event.funding);
  }
  return steps;
}

type ParsedEvent = { price?: PriceEvent; funding?: FundingEvent };

function csvEvent(raw: string, file: string, line: number): ParsedEvent | null {
  const cells = raw.split(",").map((c) => c.trim());
  if (line === 1 && cells[0]?.toLowerCase() === "timestamp") return null;
  if (cells.length < 3 || cells.length > 4)
    throw new ReplayInputError(
      file,
      line,
      cells.length < 3 ? (CSV_COLUMNS[cells.length] ?? "(line)") : "(line)",
      `expected timestamp,asset,index[,mark], got ${cells.length} column${cells.length === 1 ? "" : "s"}`,
    );
  const [timestamp = "", asset = "", index = "", mark] = cells;
  if (Number.isNaN(Date.parse(timestamp)) || !/^\d{4}-\d{2}-\d{2}T/.test(timestamp))
    throw new ReplayInputError(file, line, "timestamp", `expected an ISO 8601 timestamp, got "${timestamp}"`);
  for (const [field, value] of [
    ["index", index],
    ["mark", mark],
  ] as const) {
    if (value === undefined || (field === "mark" && value === "")) continue;
    if (!DECIMAL.test(value) || /^0(\.0+)?$/.test(value))
      throw new ReplayInputError(file, line, field, `expected a positive decimal price, got "${value}"`);
  }
  const parsed = PriceEvent.safeParse({
    eventId: `replay:${line}:${asset}`,
    asset,
    index,
    ...(mark ? { mark } : {}),
    timestamp,
    source: "replay",
  });
  if (!parsed.success) {
    const issue = issuesFromZod(parsed.error)[0];
    throw new ReplayInputError(file, line, issue?.path ?? "(line)", issue?.message ?? "invalid");
  }
  return { price: parsed.data };
}

function jsonEvent(raw: string, file: string, line: number): ParsedEvent {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ReplayInputError(file, line, "(line)", "not JSON");
  }
  const funding = typeof value === "object" && value !== null && "rate" in value;
  const parsed = (funding ? FundingEvent : PriceEvent).safeParse(value);
  if (!parsed.success) {
    const issue = issuesFromZod(parsed.error)[0];
    throw new ReplayInputError(file, line, issue?.path ?? "(line)", issue?.message ?? "invalid");
  }
  return funding ? { funding: parsed.data as FundingEvent } : { price: parsed.data as PriceEvent };
}
