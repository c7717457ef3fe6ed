/**
 * A sum of float64 model values (option greeks) that does not depend on the order they arrive in,
 * so a report summed on many shards equals the one summed in one process to the last bit.
 *
 * Shewchuk's algorithm ("Adaptive precision floating-point arithmetic", 1997; Python's
 * `math.fsum`): the running sum is kept exactly as a few non-overlapping doubles (the partials),
 * and `value()` rounds that exact sum once, correctly. Partials are plain numbers, so a shard's sum
 * travels as JSON and merges by adding them.
 */
export class ExactFloatSum {
  private readonly partials: number[] = [];

  add(value: number): void {
    let x = value;
    let kept = 0;
    for (let y of this.partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const high = x + y;
      const low = y - (high - x);
      if (low !== 0) this.partials[kept++] = low;
      x = high;
    }
    this.partials.length = kept;
    this.partials.push(x);
  }

  /** The exact sum's parts, for a partial result that another process merges. */
  parts(): number[] {
    return [...this.partials];
  }

  merge(parts: readonly number[]): void {
    for (const part of parts) this.add(part);
  }

  /** The exact sum rounded to the nearest double (ties to even), as `math.fsum` finishes it. */
  value(): number {
    const p = this.partials;
    let n = p.length;
    if (n === 0) return 0;
    n--;
    let high = p[n] as number;
    let low = 0;
    while (n > 0) {
      const x = high;
      n--;
      const y = p[n] as number;
      high = x + y;
      low = y - (high - x);
      if (low !== 0) break;
    }
    // Round half-even correctly when the rest of the partials push a tie one way.
    const next = n > 0 ? (p[n - 1] as number) : 0;
    if ((low < 0 && next < 0) || (low > 0 && next > 0)) {
      const doubled = low * 2;
      const candidate = high + doubled;
      if (doubled === candidate - high) high = candidate;
    }
    // An exact zero has no sign: −0 would depend on the order of cancelling values.
    return high === 0 ? 0 : high;
  }
}
