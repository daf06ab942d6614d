import type { Db, Executor } from '../db/connect.js'
import { isDuplicateKey } from '../db/errors.js'
import type { EventLog } from '../events/event-log.js'
import type { FeedEvent } from '../events/feed.js'
import { AppError } from '../http/errors.js'
import * as tokens from './api-tokens.js'
import { CredentialResolver, type AuthUser } from './credential-resolver.js'
import type { PasswordHasher } from './passwords.js'
import { newSessionId, type SessionSealer } from './session-cookie.js'
import { hashApiToken, newApiToken } from './tokens.js'
import * as users from './users.js'

export type { AuthUser } from './credential-resolver.js'

export interface AuthServiceDeps {
  db: Db
  eventLog: EventLog
  sealer: SessionSealer
  hasher: PasswordHasher
  registration: 'open' | 'invite' | 'closed'
  maxTokensPerUser: number
  /** With REGISTRATION=invite: uses up one use of an invitation code; false when it is not valid. */
  consumeInvite?: (db: Executor, code: string, now: number) => Promise<boolean>
}

const badCredentials = (): AppError => new AppError('bad_credentials', 'Wrong username or password.')

/**
 * Accounts, sessions and tokens. Cookies are stateless seals; what makes them
 * revocable is the user's session version and the list of ended sessions, which
 * every request checks in the database (polls: in a cache the event stream
 * keeps fresh on every node).
 */
export class AuthService {
  private readonly credentials: CredentialResolver

  constructor (private readonly deps: AuthServiceDeps) {
    this.credentials = new CredentialResolver(deps)
  }

  /** Drops cached credentials of users whose sessions or tokens changed on any node. */
  onFeedBatch (batch: FeedEvent[]): void {
    this.credentials.onFeedBatch(batch)
  }

  /** From memory alone (polls): the caller, null for no valid session, undefined when memory cannot tell. */
  cachedFromCookie (cookie: string): AuthUser | null | undefined {
    // A cookie sealed with an older secret is sealed again: that takes the full path.
    return this.deps.sealer.isCurrent(cookie) ? this.credentials.cachedFromCookie(cookie) : undefined
  }

  cachedFromBearer (token: string): AuthUser | null | undefined {
    return this.credentials.cachedFromBearer(token)
  }

  /** Sealed with the current secret: no new cookie is due on this request. */
  cookieIsCurrent (cookie: string): boolean {
    return this.deps.sealer.isCurrent(cookie)
  }

  async fromCookie (cookie: string, cached: boolean): Promise<AuthUser | null> {
    return await this.credentials.fromCookie(cookie, cached)
  }

  async fromBearer (token: string, cached: boolean): Promise<AuthUser | null> {
    return await this.credentials.fromBearer(token, cached)
  }

  /** Drops entries nobody used for a while, and records when cached tokens were last used (one statement). */
  async housekeeping (now = Date.now()): Promise<void> {
    await this.credentials.housekeeping(now)
  }

  async register (input: { username: string, password: string, displayName?: string | undefined, invite?: string | undefined }): Promise<{ user: users.UserRecord, cookie: string }> {
    if (this.deps.registration === 'closed') throw new AppError('forbidden', 'Registration is closed on this server.')
    if (input.displayName !== undefined) await this.refuseImpersonation(input.displayName, input.username)
    const passwordHash = await this.deps.hasher.hash(input.password)
    let id: number
    try {
      // The invitation is used up in the same transaction, so a refused sign-up (name taken) costs it nothing.
      id = await this.deps.db.transaction().execute(async (trx) => {
        if (this.deps.registration === 'invite' && await users.hasAnyUser(trx) &&
          !await (this.deps.consumeInvite?.(trx, input.invite ?? '', Date.now()) ?? false)) {
          throw new AppError('forbidden', 'Registration needs a valid invitation on this server.')
        }
        return await users.insertUser(trx, {
          username: input.username,
          displayName: input.displayName?.trim() !== undefined && input.displayName.trim() !== '' ? input.displayName.trim() : input.username,
          passwordHash
        })
      })
    } catch (err) {
      if (isDuplicateKey(err)) throw new AppError('username_taken', 'That username is taken.')
      throw err
    }
    await users.promoteIfFirst(this.deps.db, id)
    const user = await users.findUserById(this.deps.db, id) as users.UserRecord
    return { user, cookie: await this.newSession(user) }
  }

  /**
   * A display name may not be another user's username (`eve` showing as
   * "alice"), however it is dressed: case, a leading @, full-width letters.
   */
  private async refuseImpersonation (displayName: string, ownUsername: string): Promise<void> {
    const bare = displayName.normalize('NFKC').trim().replace(/^@/, '').toLowerCase()
    if (bare === ownUsername.toLowerCase() || !/^[a-z0-9_.-]{3,32}$/.test(bare)) return
    if (await users.findUserByUsername(this.deps.db, bare) !== undefined) {
      throw new AppError('invalid', 'That display name is another user\'s username.', { fields: { displayName: 'is another user\'s username' } })
    }
  }

  async login (username: string, password: string): Promise<{ user: users.UserRecord, cookie: string }> {
    const user = /^[A-Za-z0-9_.-]{3,32}$/.test(username) ? await users.findUserByUsername(this.deps.db, username) : undefined
    if (user === undefined) {
      await this.deps.hasher.verifyNothing(password)
      throw badCredentials()
    }
    if (!await this.deps.hasher.verify(password, user.passwordHash) || user.disabled) throw badCredentials()
    return { user, cookie: await this.newSession(user) }
  }

  /**
   * A valid cookie sealed with an older secret, sealed again with the current
   * one (same session), so the older secret can be retired without signing
   * active users out; null when the cookie needs nothing.
   */
  async resealIfOld (cookie: string): Promise<string | null> {
    if (this.deps.sealer.isCurrent(cookie)) return null
    const session = await this.deps.sealer.unseal(cookie)
    return session === null ? null : await this.deps.sealer.seal(session)
  }

  private async newSession (user: users.UserRecord): Promise<string> {
    return await this.deps.sealer.seal({ userId: String(user.id), sessionId: newSessionId(), version: user.sessionVersion })
  }

  /** Ends one session: its cookie, and every copy of it, stops working on every node. */
  async logout (auth: AuthUser): Promise<void> {
    const sessionId = auth.sessionId
    if (sessionId === null) return
    const expiresAt = Date.now() + this.deps.sealer.ttlSeconds * 1000
    await this.deps.eventLog.write(async (trx, pending) => {
      await users.revokeSession(trx, auth.id, sessionId, expiresAt)
      pending.append({ type: 'auth', roomId: null, user: users.publicUser(auth), targetUserId: auth.id })
    })
    this.credentials.forget(auth.id)
  }

  /** Ends every session and every API token of the user; returns the new version for a session that should live on. */
  async revokeAll (auth: AuthUser): Promise<number> {
    const { result } = await this.deps.eventLog.write(async (trx, pending) => {
      const version = await users.bumpSessionVersion(trx, auth.id)
      await tokens.deleteAllTokens(trx, auth.id)
      pending.append({ type: 'auth', roomId: null, user: users.publicUser(auth), targetUserId: auth.id })
      return version
    })
    this.credentials.forget(auth.id)
    return result
  }

  /**
   * Changes the password and ends all other sessions and every API token: a
   * token minted with a stolen session must not outlive the password it stole.
   * Returns a fresh cookie for this session.
   */
  async changePassword (auth: AuthUser, currentPassword: string, newPassword: string): Promise<string | null> {
    const user = await users.findUserById(this.deps.db, auth.id)
    if (user === undefined) throw new AppError('unauthenticated', 'Sign in first.')
    if (!await this.deps.hasher.verify(currentPassword, user.passwordHash)) throw badCredentials()
    const hash = await this.deps.hasher.hash(newPassword)
    const { result: version } = await this.deps.eventLog.write(async (trx, pending) => {
      await users.setPasswordHash(trx, auth.id, hash)
      const v = await users.bumpSessionVersion(trx, auth.id)
      await tokens.deleteAllTokens(trx, auth.id)
      pending.append({ type: 'auth', roomId: null, user: users.publicUser(auth), targetUserId: auth.id })
      return v
    })
    this.credentials.forget(auth.id)
    if (auth.via !== 'cookie') return null
    return await this.deps.sealer.seal({ userId: String(auth.id), sessionId: newSessionId(), version })
  }

  /** Makes a token, once the caller has proved they know the password (a stolen cookie alone must not mint one). */
  async createToken (auth: AuthUser, name: string, password: string): Promise<tokens.TokenSummary & { token: string }> {
    const user = await users.findUserById(this.deps.db, auth.id)
    if (user === undefined) throw new AppError('unauthenticated', 'Sign in first.')
    if (!await this.deps.hasher.verify(password, user.passwordHash)) throw badCredentials()
    if (await tokens.countTokens(this.deps.db, auth.id) >= this.deps.maxTokensPerUser) {
      throw new AppError('forbidden', `An account may hold at most ${this.deps.maxTokensPerUser} tokens; delete one first.`)
    }
    const token = newApiToken()
    const summary = await tokens.insertToken(this.deps.db, { userId: auth.id, name, tokenHash: hashApiToken(token) })
    return { ...summary, token }
  }

  async listTokens (auth: AuthUser): Promise<tokens.TokenSummary[]> {
    return await tokens.listTokens(this.deps.db, auth.id)
  }

  /** Deletes a token; it stops working at once here and, through the event stream, on every node. */
  async deleteToken (auth: AuthUser, tokenId: number): Promise<boolean> {
    const { result } = await this.deps.eventLog.write(async (trx, pending) => {
      const deleted = await tokens.deleteToken(trx, auth.id, tokenId)
      if (deleted) pending.append({ type: 'auth', roomId: null, user: users.publicUser(auth), targetUserId: auth.id })
      return deleted
    })
    this.credentials.forget(auth.id)
    return result
  }
}
