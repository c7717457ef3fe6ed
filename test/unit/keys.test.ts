import { Decimal } from "@backing/core";
import { sortablePrice, unsortablePrice } from "@backing/dynamo";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimalString } from "../helpers/arbitraries.ts";

describe("band edges in the index", () => {
  it("read back as the same number, and sort like numbers", () => {
    const price = fc.oneof(
      decimalString(0, 1000, 8),
      decimalString(0, 1e9, 2),
      fc.constantFrom("0", "1", "100000"),
    );
    fc.assert(
      fc.property(price, price, (a, b) => {
        expect(new Decimal(unsortablePrice(sortablePrice(a))).eq(a)).toBe(true);
        const order = Math.sign(new Decimal(a).comparedTo(b));
        const keys = sortablePrice(a) < sortablePrice(b) ? -1 : sortablePrice(a) > sortablePrice(b) ? 1 : 0;
        expect(keys).toBe(order);
      }),
    );
    expect(unsortablePrice(sortablePrice("21000.5"))).toBe("21000.5");
    expect(unsortablePrice(sortablePrice("0.000001"))).toBe("0.000001");
    expect(unsortablePrice(sortablePrice("7"))).toBe("7");
  });

  it("read back rounded toward the band's inside when the edge has more than 20 decimals", () => {
    const edge = "1.123456789012345678901";
    expect(unsortablePrice(sortablePrice(edge, "up"))).toBe("1.12345678901234567891");
    expect(unsortablePrice(sortablePrice(edge, "down"))).toBe("1.1234567890123456789");
  });
});
