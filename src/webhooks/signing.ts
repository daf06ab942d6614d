import { createHash, createHmac, randomBytes } from 'node:crypto'

/*
 * Webhook secrets. An incoming hook's secret is its URL: only its SHA-256 is
 * stored (looked up by hash, like API tokens). An outgoing hook's secret signs
 * each delivery, so the server must keep it.
 */
export const newIncomingSecret = (): string => randomBytes(32).toString('base64url')
export const looksLikeIncomingSecret = (s: string): boolean => /^[A-Za-z0-9_-]{43}$/.test(s)
export const hashIncomingSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex')

export const newSigningSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`

/** The `X-Chat-Signature` header value: HMAC-SHA256 of the exact body bytes. */
export const signature = (body: string, secret: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
