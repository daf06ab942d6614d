import type { Db } from '../db/connect.js'
import type { FeedEvent } from '../events/feed.js'
import * as tokens from './api-tokens.js'
import { LoadOnceCache } from './load-once-cache.js'
import type { SessionSealer } from './session-cookie.js'
import { hashApiToken, looksLikeApiToken } from './tokens.js'
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
}

interface CachedUser {
  user: users.UserRecord
  revoked: Set<string>
}

interface CachedToken { userId: number, tokenId: number }

// Polls read credentials from memory. Entries need no expiry: every change to
// a user's sessions or tokens writes an `auth` event, and each node's feed drops
// the user's entries when it reads it. Entries unused for a while are dropped,
// so memory follows the users who are active, and reloads never come in waves.
const idleEvictMs = 10 * 60 * 1000
const tokenTouchEveryMs = 60000

/**
 * Turns a request's cookie or bearer token into its user. Polls come often, so
 * they read from a cache that the event stream keeps fresh on every node;
 * other requests read the database.
 */
export class CredentialResolver {
  private readonly userCache = new LoadOnceCache<number, CachedUser>(idleEvictMs)
  private readonly tokenCache = new LoadOnceCache<string, CachedToken>(idleEvictMs)
  /** Tokens used on the cached path since the last flush, for last-used times. */
  private readonly tokensUsed = new Set<number>()

  constructor (private readonly deps: { db: Db, sealer: SessionSealer }) {}

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

  async fromCookie (cookie: string, cached: boolean): Promise<AuthUser | null> {
    const session = await this.deps.sealer.unseal(cookie)
    if (session === null || !/^\d{1,18}$/.test(session.userId)) return null
    const userId = Number(session.userId)
    let user: users.UserRecord | undefined
    if (cached) {
      const entry = await this.cachedUser(userId)
      if (entry === undefined || entry.revoked.has(session.sessionId)) return null
      user = entry.user
    } else {
      user = await users.findUserById(this.deps.db, userId)
      if (user === undefined || await users.isSessionRevoked(this.deps.db, session.sessionId)) return null
    }
    if (user.sessionVersion !== session.version || user.disabled) return null
    return { ...this.identity(user), via: 'cookie', sessionId: session.sessionId, tokenId: null }
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
      return user === undefined || user.disabled ? null : { ...this.identity(user), via: 'token', sessionId: null, tokenId: found.tokenId }
    }
    const owner = await this.tokenCache.get(hash, async () => await tokens.findTokenOwner(this.deps.db, hash))
    if (owner === undefined) return null
    this.tokensUsed.add(owner.tokenId)
    const user = (await this.cachedUser(owner.userId))?.user
    if (user === undefined || user.disabled) return null
    return { ...this.identity(user), via: 'token', sessionId: null, tokenId: owner.tokenId }
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
    if (this.tokensUsed.size === 0) return
    const ids = [...this.tokensUsed]
    this.tokensUsed.clear()
    await tokens.touchTokens(this.deps.db, ids, now)
  }

  private identity (u: users.UserRecord): Omit<AuthUser, 'via' | 'sessionId' | 'tokenId'> {
    return { id: u.id, username: u.username, displayName: u.displayName, isAdmin: u.isAdmin }
  }
}
