/**
 * What the bench sent, indexed by a global sequence number `k` carried in each
 * message's clientId (`b<k>.<sender>`): whether the server accepted it and
 * when. Typed arrays keep bookkeeping for millions of deliveries cheap.
 */
export const PENDING = 0
export const ACCEPTED = 1
export const FAILED = 2

export class Ledger {
  next = 0
  state = new Uint8Array(1024)
  /** When each send started (performance.now()): latency is counted from there, as a user waits from pressing send. */
  sentAt = new Float64Array(1024)

  /** Reserves the next sequence number for a send starting at `at`. */
  take (at: number): number {
    const k = this.next++
    if (k >= this.state.length) {
      const state = new Uint8Array(this.state.length * 2)
      state.set(this.state)
      this.state = state
      const sentAt = new Float64Array(this.sentAt.length * 2)
      sentAt.set(this.sentAt)
      this.sentAt = sentAt
    }
    this.sentAt[k] = at
    return k
  }

  accept (k: number): void {
    this.state[k] = ACCEPTED
  }

  fail (k: number): void {
    this.state[k] = FAILED
  }
}

export const clientIdFor = (k: number, sender: number): string => `b${k}.${sender}`

/** Parses `b<k>.<sender>`; null when the clientId is not one of ours. */
export function parseClientId (cid: unknown): { k: number, sender: number } | null {
  if (typeof cid !== 'string' || cid.charCodeAt(0) !== 98 /* b */) return null
  const dot = cid.indexOf('.')
  if (dot < 0) return null
  const k = Number(cid.slice(1, dot))
  const sender = Number(cid.slice(dot + 1))
  if (!Number.isInteger(k) || !Number.isInteger(sender)) return null
  return { k, sender }
}

/** A growable bitmap of the sequence numbers one poller has received. */
export class SeenSet {
  private bits = new Uint8Array(64)
  private readonly base: number

  constructor (base: number) { this.base = base }

  /** Marks `k`; false when it was already there (a duplicate delivery). */
  add (k: number): boolean {
    const i = k - this.base
    if (i < 0) return true // before this poller's starting point: not its business
    if (i >= this.bits.length) {
      let size = this.bits.length * 2
      while (size <= i) size *= 2
      const bits = new Uint8Array(size)
      bits.set(this.bits)
      this.bits = bits
    }
    if (this.bits[i] === 1) return false
    this.bits[i] = 1
    return true
  }

  has (k: number): boolean {
    const i = k - this.base
    return i >= 0 && i < this.bits.length && this.bits[i] === 1
  }
}
