/**
 * Black-76 for European options on a forward F (here the underlying's mark), in float64: option
 * pricing is model maths, so it is the one place the engine computes in doubles. Values cross into
 * Decimal only through `fromModelFloat`. `rate` discounts the payoff (0 for crypto options).
 */

const SQRT_2PI = Math.sqrt(2 * Math.PI);

export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

/**
 * Standard normal CDF, Hart (1968) as given by G. West, "Better approximations to cumulative
 * normal functions" (2005), Fig. 2: double-precision accuracy over the whole real line.
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x);
  let tail: number;
  if (z > 37) {
    tail = 0;
  } else {
    const e = Math.exp(-0.5 * z * z);
    if (z < 7.07106781186547) {
      let num = 3.52624965998911e-2 * z + 0.700383064443688;
      num = num * z + 6.37396220353165;
      num = num * z + 33.912866078383;
      num = num * z + 112.079291497871;
      num = num * z + 221.213596169931;
      num = num * z + 220.206867912376;
      let den = 8.83883476483184e-2 * z + 1.75566716318264;
      den = den * z + 16.064177579207;
      den = den * z + 86.7807322029461;
      den = den * z + 296.564248779674;
      den = den * z + 637.333633378831;
      den = den * z + 793.826512519948;
      den = den * z + 440.413735824752;
      tail = (e * num) / den;
    } else {
      let b = z + 0.65;
      b = z + 4 / b;
      b = z + 3 / b;
      b = z + 2 / b;
      b = z + 1 / b;
      tail = e / b / 2.506628274631;
    }
  }
  return x > 0 ? 1 - tail : tail;
}

export type OptionType = "call" | "put";

export interface Black76Inputs {
  type: OptionType;
  forward: number;
  strike: number;
  /** Years to expiry (days / 365). */
  years: number;
  vol: number;
  rate?: number;
}

export interface Black76Result {
  price: number;
  /** ∂price/∂F */
  delta: number;
  /** ∂²price/∂F² */
  gamma: number;
  /** ∂price/∂σ, per 1.00 of volatility */
  vega: number;
  /** ∂price/∂t with F fixed, per year (negative: value decays) */
  theta: number;
}

export function black76(inputs: Black76Inputs): Black76Result {
  const { type, forward: F, strike: K, years: T, vol: sigma } = inputs;
  const r = inputs.rate ?? 0;
  const discount = Math.exp(-r * T);
  if (T <= 0 || sigma <= 0) {
    const intrinsic = type === "call" ? Math.max(F - K, 0) : Math.max(K - F, 0);
    const itm = type === "call" ? F > K : F < K;
    return {
      price: discount * intrinsic,
      delta: itm ? (type === "call" ? discount : -discount) : 0,
      gamma: 0,
      vega: 0,
      theta: 0,
    };
  }
  const sqrtT = Math.sqrt(T);
  const d1 = (Math.log(F / K) + 0.5 * sigma * sigma * T) / (sigma * sqrtT);
  const d2 = d1 - sigma * sqrtT;
  const pdf = normalPdf(d1);
  const gamma = (discount * pdf) / (F * sigma * sqrtT);
  const vega = discount * F * pdf * sqrtT;
  if (type === "call") {
    const price = discount * (F * normalCdf(d1) - K * normalCdf(d2));
    const theta = -(discount * F * pdf * sigma) / (2 * sqrtT) + r * price;
    return { price, delta: discount * normalCdf(d1), gamma, vega, theta };
  }
  const price = discount * (K * normalCdf(-d2) - F * normalCdf(-d1));
  const theta = -(discount * F * pdf * sigma) / (2 * sqrtT) + r * price;
  return { price, delta: -discount * normalCdf(-d1), gamma, vega, theta };
}

/**
 * Black-76's price alone at r = 0 (stress revalues every option of every account in every round):
 * the same operations as `black76`'s price, so the same float to the last bit, without the greeks.
 */
export function black76Price(
  type: OptionType,
  forward: number,
  strike: number,
  years: number,
  vol: number,
): number {
  if (years <= 0 || vol <= 0)
    return type === "call" ? Math.max(forward - strike, 0) : Math.max(strike - forward, 0);
  const sqrtT = Math.sqrt(years);
  const d1 = (Math.log(forward / strike) + 0.5 * vol * vol * years) / (vol * sqrtT);
  const d2 = d1 - vol * sqrtT;
  return type === "call"
    ? forward * normalCdf(d1) - strike * normalCdf(d2)
    : strike * normalCdf(-d2) - forward * normalCdf(-d1);
}

/**
 * The volatility at which Black-76 returns `price` (r = 0), or undefined when no volatility can
 * (a price below intrinsic or above the forward/strike bound). Bisection: slow but it cannot
 * diverge, and the price is monotone in σ.
 */
export function impliedVol(
  type: OptionType,
  forward: number,
  strike: number,
  years: number,
  price: number,
): number | undefined {
  const low = black76Price(type, forward, strike, years, 1e-6);
  const high = black76Price(type, forward, strike, years, 10);
  if (!(price >= low - 1e-12 && price <= high)) return undefined;
  let lo = 1e-6;
  let hi = 10;
  for (let i = 0; i < 100 && hi - lo > 1e-12; i++) {
    const mid = 0.5 * (lo + hi);
    if (black76Price(type, forward, strike, years, mid) < price) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
