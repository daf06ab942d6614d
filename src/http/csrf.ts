import type { FastifyRequest } from 'fastify'

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The origin a header names (`Origin` is one; `Referer` is a full URL), or null. */
function originOf (value: string): string | null {
  try {
    const origin = new URL(value).origin
    return origin === 'null' ? null : origin
  } catch {
    return null
  }
}

/**
 * The request's own origin: scheme, host and port as the client used them.
 * `request.protocol` and `request.host` follow X-Forwarded-Proto/-Host only when
 * TRUST_PROXY trusts the sender, so a client cannot name its own origin.
 */
function ownOrigin (request: FastifyRequest): string | null {
  return originOf(`${request.protocol}://${request.host}`)
}

/**
 * True when a browser says this write comes from a page on another origin:
 * the full origin (scheme, host, port) must equal the request's own or one of
 * ALLOWED_ORIGINS. (By host alone, an http page of the same host, or another
 * port's service, could write with the https session's cookie.) Requests naming
 * no origin at all do not come from a browser page and are judged by their
 * credentials alone.
 */
export function isCrossOriginWrite (request: FastifyRequest, allowedOrigins: readonly string[]): boolean {
  if (safeMethods.has(request.method)) return false
  const origin = request.headers.origin
  const source = origin ?? request.headers.referer
  if (source === undefined || source === '') return false
  if (origin === 'null') return true
  // Compared as origins: a Referer is a whole URL, never equal to an allowed origin.
  const sourceOrigin = originOf(source)
  if (sourceOrigin === null) return true
  if (allowedOrigins.some(o => originOf(o) === sourceOrigin)) return false
  return sourceOrigin !== ownOrigin(request)
}
