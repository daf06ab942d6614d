import type { Db } from '../db/connect.js'
import type { FeedEvent } from '../events/feed.js'
import * as tokens from './api-tokens.js'
import { LoadOnceCache } from './load-once-cache.js'
import type { SessionData, SessionSealer } from './session-cookie.js'
import { hashApiToken, looksLikeApiToken } from './tokens.js'
import { UnsealedSessions } from './unsealed-sessions.js'
import * as users from './users.js'

/** Who is making a request, and with which credential. */
export interface AuthUser {
  id: number
  username: string
  displayName: string
  isAdmin: boolean
  via: 'cookie' | 'token'
  sessionId: string | null
  tokenId: number | null
  /**
   * Read from memory on a route that checks it again in its own transaction
   * (sends: see SendBatcher): memory may be a moment behind a revocation.
   */
  unverified?: true
}

interface CachedUser {
  user: users.UserRecord
  revoked: ReadonlySet<string>
}

interface CachedToken { userId: number, tokenId: number }

const noneRevoked: ReadonlySet<string> = new Set()

// Polls read credentials from memory. Entries need no expiry: every change to
// a user's sessions or tokens writes an `auth` event, and each node's feed drops
// the user's entries when it reads it. Entries unused for a while are dropped,
// so memory follows the users who are active, and reloads never come in waves.
const idleEvictMs = 10 * 60 * 1000
const tokenTouchEveryMs = 60000
const maxRememberedTokens = 10000

/**
 * Turns a request's cookie or bearer token into its user. Polls come often, so
 * they read from a cache that the event stream keeps fresh on every node;
 * sends with a bearer token do too, and check it again in the send's
 * transaction (MessageService.send); other requests read the database.
 */
export class CredentialResolver {
  private readonly userCache = new LoadOnceCache<number, CachedUser>(idleEvictMs)
  private readonly tokenCache = new LoadOnceCache<string, CachedToken>(idleEvictMs)
  /** Recent bearer tokens' hashes: a poller sends the same token several times a second. */
  private readonly tokenHashes = new Map<string, string>()
  /** Tokens used on the cached path since the last flush, for last-used times. */
  private readonly tokensUsed = new Set<number>()
  private readonly sessions: UnsealedSessions

  constructor (private readonly deps: { db: Db, sealer: SessionSealer }) {
    this.sessions = new UnsealedSessions(deps.sealer, idleEvictMs)
  }

  /** Drops cached credentials of users whose sessions or tokens changed on any node. */
  onFeedBatch (batch: FeedEvent[]): void {
    for (const e of batch) {
      if (e.type !== 'auth' || e.targetUserId === null) continue
      this.forget(e.targetUserId)
    }
  }

  /** Drops a user's cached user record, ended sessions and tokens. */
  forget (userId: number): void {
    this.userCache.deleteWhere(id => id === userId)
    this.tokenCache.deleteWhere((_hash, t) => t.userId === userId)
  }

  /**
   * For polls, from memory alone: the caller, null when the cookie is no
   * (longer a) valid session, undefined when memory cannot tell (then ask
   * `fromCookie`). The same checks as `fromCookie`, without a promise.
   */
  cachedFromCookie (cookie: string): AuthUser | null | undefined {
    const session = this.sessions.cached(cookie)
    if (session === undefined) return undefined
    const entry = this.userCache.peek(Number(session.userId))
    return entry === undefined ? undefined : this.sessionUser(entry, session)
  }

  /** For polls, from memory alone, like `cachedFromCookie`: a token, its owner, or undefined. */
  cachedFromBearer (token: string): AuthUser | null | undefined {
    const owner = this.tokenCache.peek(this.hashOf(token))
    if (owner === undefined) return undefined
    const entry = this.userCache.peek(owner.userId)
    if (entry === undefined) return undefined
    this.tokensUsed.add(owner.tokenId)
    return this.tokenUser(entry.user, owner)
  }

  async fromCookie (cookie: string, cached: boolean): Promise<AuthUser | null> {
    const session = cached ? await this.sessions.unseal(cookie) : await this.deps.sealer.unseal(cookie)
    if (session === null || !/^\d{1,18}$/.test(session.userId)) return null
    const userId = Number(session.userId)
    if (cached) {
      const entry = await this.cachedUser(userId)
      return entry === undefined ? null : this.sessionUser(entry, session)
    }
    const user = await users.findUserById(this.deps.db, userId)
    if (user === undefined || await users.isSessionRevoked(this.deps.db, session.sessionId)) return null
    return this.sessionUser({ user, revoked: noneRevoked }, session)
  }

  private hashOf (token: string): string {
    let hash = this.tokenHashes.get(token)
    if (hash === undefined) {
      // Bounded: tokens nobody sends again are forgotten wholesale.
      if (this.tokenHashes.size >= maxRememberedTokens) this.tokenHashes.clear()
      hash = hashApiToken(token)
      this.tokenHashes.set(token, hash)
    }
    return hash
  }

  async fromBearer (token: string, cached: boolean): Promise<AuthUser | null> {
    if (!looksLikeApiToken(token)) return null
    const hash = hashApiToken(token)
    if (!cached) {
      const found = await tokens.findTokenOwner(this.deps.db, hash)
      if (found === undefined) return null
      const now = Date.now()
      if (found.lastUsedAt === null || now - found.lastUsedAt > tokenTouchEveryMs) await tokens.touchTokens(this.deps.db, [found.tokenId], now)
      const user = await users.findUserById(this.deps.db, found.userId)
      return user === undefined ? null : this.tokenUser(user, found)
    }
    const owner = await this.tokenCache.get(hash, async () => await tokens.findTokenOwner(this.deps.db, hash))
    if (owner === undefined) return null
    this.tokensUsed.add(owner.tokenId)
    const user = (await this.cachedUser(owner.userId))?.user
    return user === undefined ? null : this.tokenUser(user, owner)
  }

  private sessionUser (entry: CachedUser, session: SessionData): AuthUser | null {
    const { user } = entry
    if (entry.revoked.has(session.sessionId) || user.sessionVersion !== session.version || user.disabled) return null
    return { id: user.id, username: user.username, displayName: user.displayName, isAdmin: user.isAdmin, via: 'cookie', sessionId: session.sessionId, tokenId: null }
  }

  private tokenUser (user: users.UserRecord, owner: CachedToken): AuthUser | null {
    if (user.disabled) return null
    return { id: user.id, username: user.username, displayName: user.displayName, isAdmin: user.isAdmin, via: 'token', sessionId: null, tokenId: owner.tokenId }
  }

  private async cachedUser (userId: number): Promise<CachedUser | undefined> {
    return await this.userCache.get(userId, async () => {
      const user = await users.findUserById(this.deps.db, userId)
      return user === undefined ? undefined : { user, revoked: new Set(await users.revokedSessionsOf(this.deps.db, userId)) }
    })
  }

  /** Drops entries nobody used for a while, and records when cached tokens were last used (one statement). */
  async housekeeping (now = Date.now()): Promise<void> {
    this.userCache.evictIdle(now)
    this.tokenCache.evictIdle(now)
    this.sessions.evictIdle(now)
    if (this.tokensUsed.size === 0) return
    const ids = [...this.tokensUsed]
    this.tokensUsed.clear()
    await tokens.touchTokens(this.deps.db, ids, now)
  }
}
