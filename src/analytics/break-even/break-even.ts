/**
 * Bedrock Provisioned Throughput against on-demand pricing for one model's hourly traffic.
 *
 * Provisioned Throughput is bought in model units (MUs), billed every hour whether used or not,
 * for a 1- or 6-month term. Each hour, n MUs carry up to n MUs' worth of tokens; whatever is
 * beyond that overflows to on-demand at on-demand prices. Over a profile of hours, the monthly
 * cost of n MUs is n x price x 730 h plus the overflow; on demand is just the token bill. An MU
 * sized for the peak idles the rest of the day, which is why peaky traffic rarely pays for one.
 *
 * No current Claude MU price or per-MU throughput is public (AWS quotes them on request), so both
 * are inputs: pass the quote (`--mu-price-1m`, `--mu-price-6m`, `--mu-input-tpm`...); the defaults only
 * show the shape of the answer.
 */

export const HOURS_PER_MONTH = 730;

export interface ModelUnitTerms {
  /** USD per MU per hour, 1-month commitment. */
  oneMonthPerHour: number;
  /** USD per MU per hour, 6-month commitment. */
  sixMonthPerHour: number;
  /** Tokens per minute one MU processes when the traffic is all input, or all output. */
  inputTokensPerMinute: number;
  outputTokensPerMinute: number;
}

/**
 * Defaults, documented in the README: the only published Claude MU prices are legacy Claude v2
 * figures (us-east-1: $63.00/h 1-month, $34.99/h 6-month); the throughput per MU is illustrative.
 */
export const DEFAULT_MODEL_UNIT_TERMS: ModelUnitTerms = {
  oneMonthPerHour: 63.0,
  sixMonthPerHour: 34.99,
  inputTokensPerMinute: 300_000,
  outputTokensPerMinute: 30_000,
};

export interface OnDemandPrices {
  /** USD per million tokens. */
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface HourlyTokens {
  inputTokens: number;
  outputTokens: number;
}

export interface UnitOption {
  units: number;
  term: '1-month' | '6-month';
  monthlyCost: number;
  provisionedCost: number;
  overflowCost: number;
  /** Share of the provisioned capacity used, over the profile. */
  utilization: number;
  /** Share of the traffic the MUs carried (the rest overflowed to on demand). */
  carried: number;
  /** monthlyCost - on-demand monthly cost: negative means it saves. */
  versusOnDemand: number;
}

export interface BreakEvenResult {
  hours: number;
  onDemandMonthly: number;
  /** Mean and peak MUs of load (how many MUs the traffic would keep fully busy). */
  meanLoad: number;
  peakLoad: number;
  /** Sustained tokens per hour (at this profile's input/output mix) at which one MU costs the same as on demand. */
  breakEvenTokensPerHour: { '1-month': number; '6-month': number };
  /** What one MU can carry in an hour at this mix. */
  unitCapacityTokensPerHour: number;
  options: UnitOption[];
  best: UnitOption | undefined;
  recommendation: string;
}

/** MUs an hour's tokens would keep busy: input and output each use their share of an MU's minute. */
export function loadInUnits(hour: HourlyTokens, terms: ModelUnitTerms): number {
  return hour.inputTokens / (terms.inputTokensPerMinute * 60) + hour.outputTokens / (terms.outputTokensPerMinute * 60);
}

function onDemandCost(hour: HourlyTokens, prices: OnDemandPrices): number {
  return (hour.inputTokens * prices.inputPerMTok + hour.outputTokens * prices.outputPerMTok) / 1e6;
}

function money(value: number): string {
  return `$${Math.round(value).toLocaleString('en-US')}`;
}

export function breakEven(profile: readonly HourlyTokens[], prices: OnDemandPrices, terms: ModelUnitTerms, maxUnits = 10): BreakEvenResult {
  const hours = profile.length;
  const scale = hours === 0 ? 0 : HOURS_PER_MONTH / hours;
  const loads = profile.map((hour) => loadInUnits(hour, terms));
  const costs = profile.map((hour) => onDemandCost(hour, prices));
  const onDemandMonthly = costs.reduce((sum, cost) => sum + cost, 0) * scale;
  const meanLoad = hours === 0 ? 0 : loads.reduce((sum, load) => sum + load, 0) / hours;
  const peakLoad = Math.max(0, ...loads);

  const totalInput = profile.reduce((sum, hour) => sum + hour.inputTokens, 0);
  const totalOutput = profile.reduce((sum, hour) => sum + hour.outputTokens, 0);
  const tokens = totalInput + totalOutput;
  const inputShare = tokens === 0 ? 0.8 : totalInput / tokens;
  const costPerToken = (inputShare * prices.inputPerMTok + (1 - inputShare) * prices.outputPerMTok) / 1e6;
  const unitCapacityTokensPerHour = 1 / (inputShare / (terms.inputTokensPerMinute * 60) + (1 - inputShare) / (terms.outputTokensPerMinute * 60));
  const breakEvenTokensPerHour = {
    '1-month': costPerToken > 0 ? terms.oneMonthPerHour / costPerToken : Number.POSITIVE_INFINITY,
    '6-month': costPerToken > 0 ? terms.sixMonthPerHour / costPerToken : Number.POSITIVE_INFINITY,
  };

  const options: UnitOption[] = [];
  for (const [term, price] of [['1-month', terms.oneMonthPerHour], ['6-month', terms.sixMonthPerHour]] as const) {
    for (let units = 1; units <= maxUnits; units++) {
      let overflow = 0;
      let used = 0;
      let carriedCost = 0;
      for (let index = 0; index < hours; index++) {
        const load = loads[index] as number;
        const carried = load === 0 ? 1 : Math.min(1, units / load);
        overflow += (1 - carried) * (costs[index] as number);
        carriedCost += carried * (costs[index] as number);
        used += Math.min(load, units);
      }
      const provisionedCost = units * price * HOURS_PER_MONTH;
      const overflowCost = overflow * scale;
      const monthlyCost = provisionedCost + overflowCost;
      const totalCost = carriedCost + overflow;
      options.push({
        units,
        term,
        monthlyCost,
        provisionedCost,
        overflowCost,
        utilization: hours === 0 ? 0 : used / (units * hours),
        carried: totalCost === 0 ? 0 : carriedCost / totalCost,
        versusOnDemand: monthlyCost - onDemandMonthly,
      });
    }
  }
  const best = [...options].sort((a, b) => a.monthlyCost - b.monthlyCost)[0];
  const peakiness = meanLoad > 0 ? peakLoad / meanLoad : 0;
  let recommendation: string;
  if (hours === 0 || tokens === 0) {
    recommendation = 'No traffic for this model in the profile: nothing to provision.';
  } else if (!best || best.monthlyCost >= onDemandMonthly) {
    const six = breakEvenTokensPerHour['6-month'];
    const reason =
      six > unitCapacityTokensPerHour
        ? `even a fully busy MU carries only ${Math.round(unitCapacityTokensPerHour).toLocaleString('en-US')} tokens/h, less than the ${Math.round(six).toLocaleString('en-US')} tokens/h it takes to pay for itself at these prices`
        : `your traffic averages ${Math.round(tokens / hours).toLocaleString('en-US')} tokens/h against a break-even of ${Math.round(six).toLocaleString('en-US')} tokens/h sustained (6-month)`;
    recommendation =
      `Stay on demand (${money(onDemandMonthly)}/month): ${reason}.` +
      (peakiness >= 2 ? ` Traffic is peaky (peak ${peakiness.toFixed(1)}x the mean): an MU sized for the peak would idle most hours.` : '');
  } else {
    const saving = onDemandMonthly - best.monthlyCost;
    recommendation =
      `${best.units} MU${best.units > 1 ? 's' : ''} on a ${best.term} term with overflow on demand: ${money(best.monthlyCost)}/month against ${money(onDemandMonthly)} on demand ` +
      `(saves ${money(saving)}, ${Math.round((saving / onDemandMonthly) * 100)}%); the MUs would be ${Math.round(best.utilization * 100)}% busy.`;
  }
  return { hours, onDemandMonthly, meanLoad, peakLoad, breakEvenTokensPerHour, unitCapacityTokensPerHour, options, best, recommendation };
}

/**
 * A month of hourly traffic from three numbers: mean tokens per hour, the output share, and how
 * much busier the daily peak is than the mean (weekends at half a weekday).
 */
export function syntheticProfile(options: { tokensPerHour: number; outputShare: number; peakToMean: number; days?: number }): HourlyTokens[] {
  const days = options.days ?? 30;
  const peak = Math.max(1, options.peakToMean);
  const shapeOf = (sharpness: number): number[] =>
    Array.from({ length: days * 24 }, (_, hour) => {
      const weekday = Math.floor(hour / 24) % 7 < 5 ? 1 : 0.5;
      // A raised cosine peaking at 14:00, sharpened until the peak/mean asked for is reachable.
      return weekday * ((1 + Math.cos((((hour % 24) - 14) / 24) * 2 * Math.PI)) / 2) ** sharpness;
    });
  const ratioOf = (values: number[]) => Math.max(...values) / (values.reduce((sum, value) => sum + value, 0) / values.length);
  let sharpness = 1;
  let shape = shapeOf(sharpness);
  for (let step = 0; step < 60 && ratioOf(shape) < peak; step++) shape = shapeOf((sharpness *= 1.3));
  // Mix the shape with a flat floor so that max/mean matches peakToMean (1 = flat).
  const shapeMean = shape.reduce((sum, value) => sum + value, 0) / shape.length;
  const shapePeak = Math.max(...shape);
  const shapePeakToMean = shapePeak / shapeMean;
  const weight = peak <= 1 ? 0 : Math.min(1, (peak - 1) / (shapePeakToMean - 1));
  const mixed = shape.map((value) => (1 - weight) + weight * (value / shapeMean));
  const mixedMean = mixed.reduce((sum, value) => sum + value, 0) / mixed.length;
  return mixed.map((value) => {
    const total = (options.tokensPerHour * value) / mixedMean;
    return { inputTokens: Math.round(total * (1 - options.outputShare)), outputTokens: Math.round(total * options.outputShare) };
  });
}
