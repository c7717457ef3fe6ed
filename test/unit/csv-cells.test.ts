import { accountsCsvHeader, accountsCsvRows, csvCell, parseAccountsCsv } from "@backing/reports";
import { describe, expect, it } from "vitest";

// Issue 17: ids such as =HYPERLINK(…) reached accounts.csv live. OWASP's CSV-injection advice: a
// cell starting with = + - @ tab or CR gets a leading ' and is quoted.
describe("CSV cells are neutralised against formula injection", () => {
  it("prefixes and quotes text a spreadsheet would run, and leaves numbers alone", () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell("@SUM(A1:A9)")).toBe(`"'@SUM(A1:A9)"`);
    expect(csvCell("+1+1")).toBe(`"'+1+1"`);
    expect(csvCell("-1+1")).toBe(`"'-1+1"`);
    expect(csvCell("\tx")).toBe(`"'\tx"`);
    expect(csvCell("-52.8")).toBe("-52.8");
    expect(csvCell("0")).toBe("0");
    expect(csvCell("acct-1")).toBe("acct-1");
    expect(csvCell("a,b")).toBe('"a,b"');
  });

  it("a report's accounts.csv reads back with the ids as they were", () => {
    const row = (id: string, equity: string) => ({
      id,
      venue: "v",
      status: "HEALTHY" as const,
      equity,
      initialMargin: "1",
      maintenanceMargin: "0.5",
      callAmount: "0",
    });
    const text = accountsCsvHeader + accountsCsvRows([row("=cmd|' /C calc'!A0", "-5"), row("plain", "7")]);
    expect(text.split("\n")[1]).toBe(`"'=cmd|' /C calc'!A0",v,HEALTHY,-5,1,0.5,0`);
    const read = parseAccountsCsv(text);
    expect([...read.keys()]).toEqual(["=cmd|' /C calc'!A0", "plain"]);
    expect(read.get("=cmd|' /C calc'!A0")?.equity.toFixed()).toBe("-5");
  });
});
