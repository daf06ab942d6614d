import { isLoopbackKey } from '../http/address.js'
import type { WireCache } from '../http/wire-answer.js'
import type { Expiring } from './timeout-wheel.js'

/** Also where the raw front keeps the answer's bytes for every socket it goes to. */
export interface PollAnswer extends WireCache {
  events: string[]
  cursor: number
  hasMore: boolean
  /** Its JSON body once made (answerBody): made once however many polls get this answer. */
  body?: Buffer
}

/** Where a poll's one outcome goes: its answer, or the error to answer with. */
export interface PollSink {
  deliver: (answer: PollAnswer) => void
  fail: (err: unknown) => void
}

/**
 * A held poll: parked until something visible arrives, its time runs out, or
 * its client leaves. Its methods live on the prototype and it hands its answer
 * straight to its sink, so a parked poll holds no closure, promise or
 * suspended function of its own.
 */
export class Waiter implements Expiring {
  /** The timeout wheel's slot while held. */
  slot = 0
  settled = false

  constructor (
    readonly userId: number,
    /** The client's address key (`addressKey`): what the per-address cap counts by. */
    readonly address: string,
    readonly cursor: number,
    readonly limit: number,
    private readonly sink: PollSink,
    /** Takes the poll out of the engine's registry and timeout wheel. */
    private readonly release: (waiter: Waiter) => void
  ) {}

  /** The one exit of a held poll: event, timeout, abort and shutdown all come here; the first call wins. */
  settle (answer: PollAnswer): void {
    if (this.settled) return
    this.settled = true
    this.release(this)
    this.sink.deliver(answer)
  }

  /** Answers with nothing new: the time ran out, the client left, or the server is stopping. */
  expire (): void {
    this.settle({ events: [], cursor: this.cursor, hasMore: false })
  }

  /** Ends the poll with an error (its answer could not be read). */
  fail (err: unknown): void {
    if (this.settled) return
    this.settled = true
    this.release(this)
    this.sink.fail(err)
  }
}

/**
 * The in-process registry of held polls, by user (and counted by address). It
 * only stores and finds waiters; deciding what each one may see is the engine's job.
 */
export class WaiterRegistry {
  private readonly byUser = new Map<number, Set<Waiter>>()
  private readonly countByAddress = new Map<string, number>()
  private count = 0

  get size (): number { return this.count }
  get userCount (): number { return this.byUser.size }

  countFor (userId: number): number { return this.byUser.get(userId)?.size ?? 0 }

  countFrom (address: string): number { return this.countByAddress.get(address) ?? 0 }

  /**
   * Which cap on held polls a new one would pass, if any: per account, or per
   * address so that many accounts from one address cannot hold the whole
   * server's polls. A cap of 0 is none. Loopback is not capped by address:
   * behind a local proxy that is not trusted, it is every visitor at once, and
   * capping it would cap the whole site at MAX_POLLS_PER_ADDRESS open tabs.
   */
  fullCap (poll: { userId: number, address: string }, perUser: number, perAddress: number): 'for this account' | 'from this address' | null {
    if (perUser > 0 && this.countFor(poll.userId) >= perUser) return 'for this account'
    if (perAddress > 0 && this.countFrom(poll.address) >= perAddress && !isLoopbackKey(poll.address)) return 'from this address'
    return null
  }

  add (waiter: Waiter): void {
    let set = this.byUser.get(waiter.userId)
    if (set === undefined) { set = new Set(); this.byUser.set(waiter.userId, set) }
    set.add(waiter)
    this.countByAddress.set(waiter.address, this.countFrom(waiter.address) + 1)
    this.count++
  }

  /** The one way out of the registry, so both counts always drop together. */
  remove (waiter: Waiter): void {
    const set = this.byUser.get(waiter.userId)
    if (set === undefined || !set.delete(waiter)) return
    this.count--
    if (set.size === 0) this.byUser.delete(waiter.userId)
    const left = this.countFrom(waiter.address) - 1
    if (left > 0) this.countByAddress.set(waiter.address, left)
    else this.countByAddress.delete(waiter.address)
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
  private poll: { expire: () => void } | null = null

  leave (): void {
    if (this.left) return
    this.left = true
    const poll = this.poll
    this.poll = null
    poll?.expire()
  }

  /** The held poll to end when the client leaves (one at a time; null: none). */
  onLeave (poll: { expire: () => void } | null): void { this.poll = poll }
}

export interface PollRequest {
  userId: number
  /** The client's address key (`addressKey` of the request's address). */
  address: string
  cursor: number | null
  limit: number
  timeoutMs: number
  departure: ClientDeparture
}
