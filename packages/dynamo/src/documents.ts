/**
 * Account documents, risk states and notifications are stored as JSON strings, not nested maps:
 * nothing queries inside them, DynamoDB Local writes and reads a nested map about a quarter slower
 * (a state carries its evidence, the whole account document), and the SDK unmarshals one string
 * instead of walking every attribute (most of the sweep's read cost in this process). Items
 * written as maps still read.
 */
export const encodedDocument = (value: unknown): string => JSON.stringify(value);

export function decodedDocument<T>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}
