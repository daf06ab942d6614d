import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { AppError } from '../http/errors.js'

// OWASP's minimum for scrypt. The parameters are stored with each hash, so
// they can be raised later without breaking existing passwords.
const N = 2 ** 14
const r = 8
const p = 5
const keyLength = 64
const maxmem = 64 * 1024 * 1024
// Checked for unknown users: the very same work as a real check (one derive, one compare), never a match.
const unknownUserHash = `scrypt$${N}$${r}$${p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(keyLength).toString('base64')}`

function derive (password: string, salt: Buffer, options: ScryptOptions, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, length, options, (err, key) => { err === null ? resolve(key) : reject(err) })
  })
}

/**
 * Hashing runs in libuv's small thread pool, which DNS and file access share:
 * a flood of logins must queue here rather than starve everything else. Past
 * `maxQueue` waiting hashes the request is refused with 503.
 */
export class PasswordHasher {
  private running = 0
  private readonly waiting: Array<() => void> = []

  constructor (private readonly concurrency: number, private readonly maxQueue = 100) {}

  private async slot<T> (fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueue) throw new AppError('unavailable', 'Too many sign-ins at once; try again shortly.', { retryAfter: 2 })
      await new Promise<void>(resolve => this.waiting.push(resolve))
    } else {
      this.running++
    }
    try {
      return await fn()
    } finally {
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.running--
    }
  }

  async hash (password: string): Promise<string> {
    return await this.slot(async () => {
      const salt = randomBytes(16)
      const key = await derive(password, salt, { N, r, p, maxmem }, keyLength)
      return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`
    })
  }

  async verify (password: string, stored: string): Promise<boolean> {
    const parts = stored.split('$')
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false
    const [, n, rr, pp, saltB64, keyB64] = parts as [string, string, string, string, string, string]
    const expected = Buffer.from(keyB64, 'base64')
    return await this.slot(async () => {
      const key = await derive(password, Buffer.from(saltB64, 'base64'),
        { N: Number(n), r: Number(rr), p: Number(pp), maxmem }, expected.length)
      return timingSafeEqual(key, expected)
    })
  }

  /**
   * Spends the same time as a real check, so that "no such user" and "wrong
   * password" cannot be told apart by timing.
   */
  async verifyNothing (password: string): Promise<false> {
    await this.verify(password, unknownUserHash)
    return false
  }
}
