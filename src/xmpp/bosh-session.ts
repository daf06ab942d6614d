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
}

/**
 * One BOSH session's transport: its sid, the window of request ids and their
 * answers (a repeated rid gets its answer again), the stanzas waiting to go
 * out, and the one held request. Requests take turns (`serially`): each
 * releases the held one first, so a hold never blocks the request behind it.
 */
export class BoshSession {
  readonly sid = randomBytes(18).toString('base64url')
  readonly outbox: Element[] = []
  /** The held request's way out: leaving it answers the request now with what the outbox has. */
  held: ClientDeparture | null = null
  inFlight = 0
  lastSeen = Date.now()
  ended = false
  /** Why the session ended, for its terminate answer (XEP-0124 §17.2). */
  endCondition: string | undefined = undefined
  private highestRid: number
  private readonly answers = new Map<number, Promise<string>>()
  private tail: Promise<unknown> = Promise.resolve()

  constructor (readonly terms: BoshTerms, firstRid: number, readonly xmpp: XmppState) {
    this.highestRid = firstRid
  }

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
    return 'next'
  }

  /** Keeps a request's answer for replay; only the window's worth is kept. */
  remember (rid: number, answer: Promise<string>): void {
    this.highestRid = Math.max(this.highestRid, rid)
    this.answers.set(rid, answer)
    for (const old of this.answers.keys()) if (old <= this.highestRid - this.terms.requests - 1) this.answers.delete(old)
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

  /** Idle past `inactivity` with no request open: the client is gone. */
  idle (now: number): boolean {
    return this.inFlight === 0 && now - this.lastSeen > this.terms.inactivitySeconds * 1000
  }

  static newDeparture (): ClientDeparture { return new ClientDeparture() }
}
