import { hash, randomBytes } from 'node:crypto'

/**
 * API tokens are 256 random bits, shown once. Only their SHA-256 is stored:
 * the hash is what is looked up, so a leaked table gives nobody a usable token
 * and there is no secret comparison whose timing could leak.
 */
export const newApiToken = (): string => `lpc_${randomBytes(32).toString('base64url')}`

// The one-shot digest: a third of createHash's cost, and polls hash a token each.
export const hashApiToken = (token: string): string => hash('sha256', token, 'hex')

export const looksLikeApiToken = (token: string): boolean => /^lpc_[A-Za-z0-9_-]{43}$/.test(token)
