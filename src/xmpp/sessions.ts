import { BoshSession, type BoshTerms } from './bosh-session.js'
import type { XmppState } from './context.js'

/**
 * The BOSH sessions of this process, by sid. They live in memory only: a
 * client whose node restarts starts a new session (docs/XMPP.md). Idle ones
 * are swept by a timer that never keeps the process alive.
 */
export class BoshSessions {
  private readonly bySid = new Map<string, BoshSession>()
  private readonly timer: NodeJS.Timeout

  constructor (private readonly maxSessions: number, sweepMs = 5000) {
    this.timer = setInterval(() => { this.sweep(Date.now()) }, sweepMs)
    this.timer.unref()
  }

  get size (): number { return this.bySid.size }

  /** A new session, or null when this process holds as many as it may. */
  open (terms: BoshTerms, firstRid: number, xmpp: XmppState): BoshSession | null {
    if (this.bySid.size >= this.maxSessions) return null
    const session = new BoshSession(terms, firstRid, xmpp)
    this.bySid.set(session.sid, session)
    return session
  }

  get (sid: string): BoshSession | undefined { return this.bySid.get(sid) }

  end (session: BoshSession, condition?: string): void {
    session.endCondition ??= condition
    session.end()
    this.bySid.delete(session.sid)
  }

  sweep (now: number): void {
    for (const s of this.bySid.values()) if (s.idle(now) || (s.ended && s.inFlight === 0)) this.end(s)
  }

  /** Ends every session (shutdown): held requests answer at once with `system-shutdown`. */
  closeAll (): void {
    clearInterval(this.timer)
    for (const s of [...this.bySid.values()]) this.end(s, 'system-shutdown')
  }
}
