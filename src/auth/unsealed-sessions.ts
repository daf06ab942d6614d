import { hash } from 'node:crypto'
import type { SessionData, SessionSealer } from './session-cookie.js'

interface Entry { session: SessionData, expiresAt: number, usedAt: number }

// Only sealed cookies that unsealed are kept (making one needs the secret), but
// a cap keeps a flood of sign-ins from growing the map without bound.
const maxEntries = 100000

/** When a seal stops being valid (the `expiration` iron writes into it), or null when it names none. */
function sealExpiry (cookie: string): number | null {
  const expiration = cookie.split('*')[5]
  return expiration !== undefined && /^\d{1,16}$/.test(expiration) ? Number(expiration) : null
}

const keyOf = (cookie: string): string => hash('sha256', cookie, 'base64')

/**
 * Session cookies already unsealed, for polls: unsealing (key derivation, HMAC,
 * AES) costs more than the rest of a poll. What a cookie holds never changes,
 * so an entry stays right until the seal's own expiry; whether the session is
 * still live (revoked, version, disabled user) is checked on every request by
 * the caller. Keyed by the cookie's SHA-256: no cookie is kept in memory.
 */
export class UnsealedSessions {
  private readonly entries = new Map<string, Entry>()

  constructor (private readonly sealer: SessionSealer, private readonly idleMs: number) {}

  /** The session in a cookie unsealed before, or undefined when this cache cannot tell. */
  cached (cookie: string, now = Date.now(), key = keyOf(cookie)): SessionData | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.entries.delete(key)
      return undefined
    }
    entry.usedAt = now
    return entry.session
  }

  async unseal (cookie: string): Promise<SessionData | null> {
    const key = keyOf(cookie)
    const hit = this.cached(cookie, Date.now(), key)
    if (hit !== undefined) return hit
    const session = await this.sealer.unseal(cookie)
    const expiresAt = session === null ? null : sealExpiry(cookie)
    // A seal without an expiry is unsealed every time: nothing says when to drop it.
    if (session !== null && expiresAt !== null) {
      if (this.entries.size >= maxEntries) this.entries.clear()
      this.entries.set(key, { session, expiresAt, usedAt: Date.now() })
    }
    return session
  }

  evictIdle (now = Date.now()): void {
    for (const [key, entry] of this.entries) if (now - entry.usedAt > this.idleMs || entry.expiresAt <= now) this.entries.delete(key)
  }
}
