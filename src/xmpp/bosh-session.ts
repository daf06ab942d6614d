import { randomBytes } from 'node:crypto'
import { ClientDeparture } from '../poll/engine.js'
import type { XmppState } from './context.js'
import type { Element } from './xml.js'

/** What a session was created with (XEP-0124 §7.1), as the server granted it. */
export interface BoshTerms {
  waitSeconds: number
  inactivitySeconds: number
  requests: number
  hold: number
  /** Shortest interval between empty polls (§11, §12). */
  pollingSeconds: number
  /** Longest `pause` a client may ask for (§10). */
  maxPauseSeconds: number
  /** The client asked for acknowledgements (`ack='1'` at creation, §9): responses carry `ack`, and its acks are read. */
  acks: boolean
}

// With acknowledgements, answers the client has not acknowledged are kept for
// a resend (§9.2), but never more than this many: a client that never acks
// cannot make the server keep its whole history.
const maxUnacked = 16

/**
 * One BOSH session's transport: its sid, the window of request ids and their
 * answers (a repeated rid gets its answer again), the stanzas waiting to go
 * out, and the one held request. Requests take turns (`serially`): each
 * releases the held one first, so a hold never blocks the request behind it.
 */
export class BoshSession {
  readonly outbox: Element[] = []
  /** Outbox stanzas that came from the event feed: dropped from an answer another node's answer overtook (they go out from the stored cursor). */
  readonly fromFeed = new WeakSet<Element>()
  /** The stored row's version this copy last wrote or read; 0 while not stored (before sign-in). */
  version = 0
  /** The highest rid answered, and the cursor after it and before it, as stored. */
  savedRid: number
  savedCursor: number | null = null
  previousCursor: number | null = null
  /** The write of the latest answer (src/xmpp/sessions.ts), settled. */
  saving: Promise<void> = Promise.resolve()
  /** Rebuilt from the table: answers before `savedRid` are not in memory (src/xmpp/sessions.ts). */
  rebuilt = false
  /** Another node answered a later request: this copy is out of date and leaves memory. */
  stale = false
  /** The node is shutting down: held requests answer as usual, and the stored session lives on. */
  shuttingDown = false
  /** The held request's way out: leaving it answers the request now with what the outbox has. */
  held: ClientDeparture | null = null
  inFlight = 0
  lastSeen = Date.now()
  ended = false
  /** Why the session ended, for its terminate answer (XEP-0124 §17.2). */
  endCondition: string | undefined = undefined
  /** A granted `pause` (§10): the inactivity allowed until the next request. */
  pausedFor: number | null = null
  /** When the last empty request of a polling session got an empty answer (§12), else null. */
  lastEmptyPoll: number | null = null
  private highestRid: number
  /** The highest rid with every lower one received: what a response's `ack` reports (§9.1). */
  private contiguousRid: number
  private readonly received = new Set<number>()
  private readonly answers = new Map<number, Promise<string>>()
  /** When each kept answer went out, for a `report`'s `time` (§9.2). */
  private readonly answeredAt = new Map<number, number>()
  private lastAnsweredRid: number
  private tail: Promise<unknown> = Promise.resolve()

  constructor (readonly terms: BoshTerms, firstRid: number, readonly xmpp: XmppState, readonly sid = randomBytes(18).toString('base64url')) {
    this.savedRid = firstRid
    this.highestRid = firstRid
    this.contiguousRid = firstRid
    this.lastAnsweredRid = firstRid
  }

  get polling (): boolean { return this.terms.hold === 0 }

  /**
   * What to do with a request id (XEP-0124 §14): the answer of one already
   * seen, `next` for a new one inside the window, `refuse` for one outside it
   * (which ends the session).
   */
  checkRid (rid: number): Promise<string> | 'next' | 'refuse' {
    const seen = this.answers.get(rid)
    if (seen !== undefined) return seen
    // Inside the window a rid may arrive out of order (two connections race); it is still new.
    if (rid <= this.highestRid - this.terms.requests || rid > this.highestRid + this.terms.requests) return 'refuse'
    if (rid <= this.contiguousRid) return 'refuse'
    return 'next'
  }

  hasAnswer (rid: number): boolean { return this.answers.has(rid) }

  /** Keeps a request's answer for replay; only the window's worth is kept (with acks, what is not acknowledged yet). */
  remember (rid: number, answer: Promise<string>): void {
    this.highestRid = Math.max(this.highestRid, rid)
    this.received.add(rid)
    while (this.received.delete(this.contiguousRid + 1)) this.contiguousRid++
    this.answers.set(rid, answer)
    answer.then(() => { this.answered(rid) }, () => {})
    this.forget(this.terms.acks ? this.highestRid - maxUnacked : this.highestRid - this.terms.requests - 1)
  }

  private answered (rid: number): void {
    if (!this.answers.has(rid)) return
    this.answeredAt.set(rid, Date.now())
    this.lastAnsweredRid = Math.max(this.lastAnsweredRid, rid)
  }

  /** The client acknowledged every answer up to `ack` (§9.2): those need not be kept for a resend. */
  acknowledged (ack: number): void {
    if (this.terms.acks) this.forget(Math.min(ack, this.highestRid - this.terms.requests - 1))
  }

  private forget (upTo: number): void {
    for (const old of this.answers.keys()) {
      if (old <= upTo) {
        this.answers.delete(old)
        this.answeredAt.delete(old)
      }
    }
  }

  /** The `ack` a response to `rid` carries (§9.1): only when a later request has been received. */
  ackFor (rid: number): number | undefined {
    return this.terms.acks && this.contiguousRid > rid ? this.contiguousRid : undefined
  }

  /**
   * The answer a client's `ack` says it is missing (§9.2): the first rid after
   * its ack when that was already answered, and how long ago; else null.
   */
  missing (ack: number): { report: number, time: number } | null {
    if (!this.terms.acks || ack >= this.lastAnsweredRid) return null
    const sentAt = this.answeredAt.get(ack + 1)
    return sentAt === undefined ? null : { report: ack + 1, time: Date.now() - sentAt }
  }

  /** Runs `fn` after every earlier request of this session has finished. */
  async serially<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn)
    this.tail = run.catch(() => {})
    return await run
  }

  /** Answers the held request now (a newer request came, or the session ends). */
  release (): void { this.held?.leave() }

  /** Takes everything waiting to go out. */
  drain (): Element[] { return this.outbox.splice(0) }

  end (): void {
    this.ended = true
    this.release()
  }

  touch (): void { this.lastSeen = Date.now() }

  /** A new request arrived: any pause is over (§10), the normal inactivity applies again. */
  resume (): void { this.pausedFor = null }

  /** Idle past `inactivity` (or a granted pause) with no request open: the client is gone. */
  idle (now: number): boolean {
    return this.inFlight === 0 && now - this.lastSeen > (this.pausedFor ?? this.terms.inactivitySeconds) * 1000
  }

  static newDeparture (): ClientDeparture { return new ClientDeparture() }
}
