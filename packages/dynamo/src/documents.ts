/**
 * Risk states and notifications are stored as JSON strings, not nested maps: nothing queries
 * inside them, and DynamoDB Local writes and reads a nested map about a quarter slower (a state
 * carries its evidence, the whole account document). Items written as maps still read.
 */
export const encodedDocument = (value: unknown): string => JSON.stringify(value);

export function decodedDocument<T>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}
