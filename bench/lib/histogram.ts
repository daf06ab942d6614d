/**
 * A fixed-bucket latency histogram: 0.1 ms steps to 10 s, then 10 ms steps to
 * 130 s. Recording is one array increment, so a million deliveries cost the
 * load generator next to nothing and need no sorting at the end.
 */
export class Histogram {
  private static readonly fineBuckets = 100_000 // 0.1 ms × 100,000 = 10 s
  private static readonly coarseBuckets = 12_000 // 10 ms × 12,000 = 120 s more
  private readonly counts = new Uint32Array(Histogram.fineBuckets + Histogram.coarseBuckets + 1)
  count = 0
  max = 0

  record (ms: number): void {
    const v = ms < 0 ? 0 : ms
    if (v > this.max) this.max = v
    this.count++
    let bucket: number
    if (v < 10_000) bucket = Math.floor(v * 10)
    else bucket = Math.min(Histogram.fineBuckets + Math.floor((v - 10_000) / 10), this.counts.length - 1)
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1
  }

  /** The value below which `q` of the samples fall (upper edge of its bucket), in ms. */
  quantile (q: number): number {
    if (this.count === 0) return NaN
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0
      if (seen >= rank) {
        const upper = i < Histogram.fineBuckets ? (i + 1) / 10 : 10_000 + (i - Histogram.fineBuckets + 1) * 10
        return Math.min(upper, this.max)
      }
    }
    return this.max
  }

  merge (other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0)
    this.count += other.count
    if (other.max > this.max) this.max = other.max
  }
}

export function fmt (value: number, digits = 1): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

export function fmtInt (value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  return Math.round(value).toLocaleString('en-US')
}

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells
    .map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))
    .join('  ')
  const rule = widths.map(w => '-'.repeat(w)).join('  ')
  return [line(header), rule, ...rows.map(line)].join('\n')
}
