import { BoshSession, type BoshTerms } from './bosh-session.js'
import { XmppState, type JoinedRoom, type XmppServices } from './context.js'
import type { BoshStore, SealedState, StoredSession } from './session-store.js'
import type { Element } from './xml.js'

// How often a node deletes the stored sessions past their inactivity (any node may: one statement).
const expirySweepMs = 60_000

function sealedState (session: BoshSession): SealedState {
  const x = session.xmpp
  return {
    terms: session.terms,
    stage: x.stage,
    cookie: x.cookie ?? '',
    resource: x.resource,
    rooms: [...x.rooms.values()].map(r => ({ id: r.id, name: r.name, nick: r.nick, historyUpTo: r.historyUpTo, banning: [...r.banning], offline: [...r.offline] })),
    directs: [...x.directs],
    contactsOnline: x.contactsOnline === null ? null : [...x.contactsOnline],
    pausedFor: session.pausedFor
  }
}

/**
 * The BOSH sessions this process has in memory, by sid, over the table every
 * node shares (docs/XMPP.md, "Sessions and restarts"): a session is stored
 * from its creation and with each answer, so a request for a sid this node does not have
 * (another node made it, or this one restarted) rebuilds it from the stored
 * cursor, and a copy another node has moved on is dropped and rebuilt. Idle
 * copies leave memory on a timer that never keeps the process alive; the
 * stored session ends at terminate, at a broken rule, at sign-out, or when
 * it has been idle past its inactivity on every node.
 */
export class BoshSessions {
  private readonly bySid = new Map<string, BoshSession>()
  private readonly timer: NodeJS.Timeout
  private lastExpirySweep = 0

  constructor (private readonly ctx: XmppServices, readonly store: BoshStore, private readonly maxSessions: number, sweepMs = 5000) {
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

  /**
   * The session a request names, current with the table: this node's copy
   * if no other node has answered since, else rebuilt from the stored row;
   * a string (the terminate condition) when it cannot go on.
   */
  async current (sid: string): Promise<BoshSession | string> {
    const local = this.bySid.get(sid)
    if (local !== undefined && (local.version === 0 || local.ended)) return local
    if (local !== undefined) {
      const version = await this.store.version(sid)
      // Versions only grow: one below this copy's was read before its own latest write, and one
      // above it may be that write landing before its answer came back (wait for it, then compare).
      if (version !== null && version > local.version) await local.saving
      if (version !== null && version <= local.version) return local
      // Ended elsewhere, or moved on by another node: this copy goes.
      this.drop(local)
      if (version === null) return 'item-not-found'
    }
    const row = await this.store.load(sid)
    if (row === null) return 'item-not-found'
    return await this.rebuild(sid, row)
  }

  private async rebuild (sid: string, row: StoredSession): Promise<BoshSession | string> {
    if (this.bySid.size >= this.maxSessions) return 'service-unavailable'
    // The same checks as a live session's every request: a revoked sign-in or a disabled account ends it.
    const signedIn = row.userId !== 0
    const user = signedIn ? await this.ctx.auth.fromCookie(row.state.cookie, false) : null
    if (signedIn && (user === null || user.id !== row.userId)) {
      await this.store.delete(sid)
      return 'policy-violation'
    }
    const s = row.state
    const xmpp = new XmppState(this.ctx.domains)
    xmpp.stage = s.stage
    xmpp.user = user
    xmpp.cookie = signedIn ? s.cookie : null
    xmpp.resource = s.resource
    xmpp.cursor = row.cursor
    for (const r of s.rooms) {
      const room: JoinedRoom = { id: r.id, name: r.name, nick: r.nick, historyUpTo: r.historyUpTo, banning: new Set(r.banning), offline: new Map(r.offline) }
      xmpp.rooms.set(r.id, room)
    }
    for (const [id, name] of s.directs) xmpp.directs.set(id, name)
    xmpp.contactsOnline = s.contactsOnline === null ? null : new Set(s.contactsOnline)
    const session = new BoshSession(s.terms, row.rid, xmpp, sid)
    session.version = row.version
    session.savedCursor = row.cursor
    session.previousCursor = row.previousCursor
    session.pausedFor = s.pausedFor
    session.rebuilt = true
    // Another request of this session may have rebuilt it meanwhile: one copy per node.
    const raced = this.bySid.get(sid)
    if (raced !== undefined && raced.version >= session.version) return raced
    this.bySid.set(sid, session)
    return session
  }

  /**
   * Stores what answering `rid` with `out` leaves, from the creation's
   * answer on (before sign-in too: the next request may reach another node).
   * When another node answered first, this copy is out of date: the answer
   * keeps what this request's own stanzas produced, and leaves the feed's
   * events to the stored cursor. `replay` answers the stored rid again from
   * the cursor before it.
   */
  async save (session: BoshSession, rid: number, out: Element[], replay = false): Promise<Element[]> {
    const answered = Math.max(session.savedRid, rid)
    const user = session.xmpp.user
    if (session.stale) return out.filter(e => !session.fromFeed.has(e))
    if (session.ended) {
      session.savedRid = answered
      return out
    }
    const previousCursor = replay ? session.previousCursor : session.savedCursor
    const fields = { userId: user?.id ?? 0, rid: answered, cursor: session.xmpp.cursor, previousCursor, state: sealedState(session) }
    const expiresAt = Date.now() + ((session.pausedFor ?? session.terms.inactivitySeconds) + session.terms.waitSeconds) * 1000
    const write = session.version === 0
      ? this.store.insert(session.sid, fields, expiresAt).then(() => true)
      : this.store.update(session.sid, session.version, fields, expiresAt)
    // The version moves on before `saving` settles, so `current` never mistakes this copy's own write for another node's.
    const written = write.then(ok => { if (ok) session.version++; return ok })
    session.saving = written.then(() => {}, () => {})
    if (!await written) {
      this.drop(session)
      return out.filter(e => !session.fromFeed.has(e))
    }
    session.savedRid = answered
    session.savedCursor = session.xmpp.cursor
    session.previousCursor = previousCursor
    return out
  }

  /** Ends the session everywhere: held requests answer with `condition`, and the stored session is deleted. */
  async end (session: BoshSession, condition?: string): Promise<void> {
    session.endCondition ??= condition
    session.end()
    if (this.bySid.get(session.sid) === session) this.bySid.delete(session.sid)
    if (session.version !== 0 && !session.stale) await this.store.delete(session.sid)
  }

  /** Out of this node's memory only (out of date, or idle here): the stored session goes on. */
  private drop (session: BoshSession): void {
    session.stale = true
    session.release()
    if (this.bySid.get(session.sid) === session) this.bySid.delete(session.sid)
  }

  sweep (now: number): void {
    for (const s of this.bySid.values()) {
      if (s.ended && s.inFlight === 0) this.bySid.delete(s.sid)
      // Idle here; a stored session may be going on at another node, and expires in the table by itself.
      else if (s.idle(now) && s.version !== 0) this.drop(s)
      else if (s.idle(now)) this.end(s).catch((err: unknown) => { this.ctx.log.warn({ err }, 'could not end a BOSH session') })
    }
    if (now - this.lastExpirySweep >= expirySweepMs) {
      this.lastExpirySweep = now
      this.store.deleteExpired(now).catch((err: unknown) => { this.ctx.log.warn({ err }, 'could not delete expired BOSH sessions') })
    }
  }

  /**
   * Shutdown: held requests answer at once as usual (not with a terminate),
   * and stored sessions stay, so their clients go on at another node or at
   * this one once it is back.
   */
  closeAll (): void {
    clearInterval(this.timer)
    for (const s of [...this.bySid.values()]) {
      if (s.version === 0) {
        s.endCondition ??= 'system-shutdown'
        s.end()
      } else {
        s.shuttingDown = true
        s.release()
      }
      this.bySid.delete(s.sid)
    }
  }
}
