import { createHash, randomBytes } from 'node:crypto'
import { sealData, unsealData } from 'iron-session'

/** What the sealed cookie carries. `v` must match the user's session version. */
export interface SessionData {
  userId: string
  sessionId: string
  version: number
}

export const sessionCookieName = 'chat_session'

/** A numeric id per secret, derived from the secret, so reordering or dropping secrets never mixes them up. */
const secretId = (secret: string): string =>
  String(parseInt(createHash('sha256').update(secret).digest('hex').slice(0, 12), 16))

/**
 * Seals and unseals session cookies with iron-session. The first secret seals;
 * all of them unseal, which is how secrets are rotated without logging anyone out.
 */
export class SessionSealer {
  private readonly sealWith: Record<string, string>
  private readonly currentPrefix: string
  private readonly unsealWith: Record<string, string>

  constructor (secrets: string[], readonly ttlSeconds: number) {
    const [first] = secrets
    if (first === undefined) throw new Error('at least one session secret is needed')
    this.sealWith = { [secretId(first)]: first }
    // A seal starts `Fe26.2*<id of the secret that sealed it>*`.
    this.currentPrefix = `Fe26.2*${secretId(first)}*`
    this.unsealWith = Object.fromEntries(secrets.map(s => [secretId(s), s]))
  }

  async seal (data: SessionData): Promise<string> {
    return await sealData({ u: data.userId, s: data.sessionId, v: data.version }, { password: this.sealWith, ttl: this.ttlSeconds })
  }

  /** True when the cookie was sealed with the first (current) secret. */
  isCurrent (cookie: string): boolean {
    return cookie.startsWith(this.currentPrefix)
  }

  /** A cookie that is tampered with, expired, or sealed with a retired secret reads as no session. */
  async unseal (cookie: string): Promise<SessionData | null> {
    // Only a seal in iron-session's exact form: its parser ignores anything after
    // the version digits, so an altered cookie would otherwise still be read.
    if (cookie.length > 4096 || !/^Fe26\.2\*[\w*-]+~\d+$/.test(cookie)) return null
    try {
      const data = await unsealData<{ u?: unknown, s?: unknown, v?: unknown }>(cookie, { password: this.unsealWith, ttl: this.ttlSeconds })
      if (typeof data.u !== 'string' || typeof data.s !== 'string' || typeof data.v !== 'number') return null
      return { userId: data.u, sessionId: data.s, version: data.v }
    } catch {
      return null
    }
  }
}

export const newSessionId = (): string => randomBytes(18).toString('base64url')
