/** A held poll: parked until something visible arrives, its time runs out, or its client leaves. */
export interface Waiter {
  userId: number
  cursor: number
  limit: number
  /** Answers the poll; the first call wins, later ones are ignored. */
  settle: (answer: PollAnswer) => void
}

export interface PollAnswer {
  events: string[]
  cursor: number
  hasMore: boolean
}

/**
 * The in-process registry of held polls, by user. It only stores and finds
 * waiters; deciding what each one may see is the engine's job.
 */
export class WaiterRegistry {
  private readonly byUser = new Map<number, Set<Waiter>>()
  private count = 0

  get size (): number { return this.count }
  get userCount (): number { return this.byUser.size }

  countFor (userId: number): number { return this.byUser.get(userId)?.size ?? 0 }

  add (waiter: Waiter): void {
    let set = this.byUser.get(waiter.userId)
    if (set === undefined) { set = new Set(); this.byUser.set(waiter.userId, set) }
    set.add(waiter)
    this.count++
  }

  remove (waiter: Waiter): void {
    const set = this.byUser.get(waiter.userId)
    if (set === undefined || !set.delete(waiter)) return
    this.count--
    if (set.size === 0) this.byUser.delete(waiter.userId)
  }

  of (userId: number): ReadonlySet<Waiter> | undefined { return this.byUser.get(userId) }

  hasUser (userId: number): boolean { return this.byUser.has(userId) }

  all (): Waiter[] {
    const out: Waiter[] = []
    for (const set of this.byUser.values()) for (const w of set) out.push(w)
    return out
  }
}

/** Tells a held poll that its client went away; the poll then leaves the registry at once. */
export class ClientDeparture {
  left = false
  private listener: (() => void) | null = null

  leave (): void {
    if (this.left) return
    this.left = true
    const listener = this.listener
    this.listener = null
    listener?.()
  }

  /** One listener at a time; null removes it. */
  onLeave (listener: (() => void) | null): void { this.listener = listener }
}

export interface PollRequest {
  userId: number
  cursor: number | null
  limit: number
  timeoutMs: number
  departure: ClientDeparture
}
