import type { FastifyRequest } from 'fastify'

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS'])

function hostOf (value: string): string | null {
  try {
    const url = new URL(value)
    const defaultPort = (url.protocol === 'https:' && url.port === '443') || (url.protocol === 'http:' && url.port === '80')
    return defaultPort ? url.hostname : url.host
  } catch {
    return null
  }
}

/** The origin a header names (`Origin` is one; `Referer` is a full URL), or null. */
function originOf (value: string): string | null {
  try {
    const origin = new URL(value).origin
    return origin === 'null' ? null : origin
  } catch {
    return null
  }
}

const stripDefaultPort = (host: string): string => host.replace(/:(80|443)$/, '')

/**
 * True when a browser says this write comes from a page on another origin.
 * Judged by host: the scheme a proxy reports is not always to be trusted, and a
 * page on another host is what CSRF needs. Requests naming no origin at all do
 * not come from a browser page and are judged by their credentials alone.
 */
export function isCrossOriginWrite (request: FastifyRequest, allowedOrigins: readonly string[]): boolean {
  if (safeMethods.has(request.method)) return false
  const origin = request.headers.origin
  const source = origin ?? request.headers.referer
  if (source === undefined || source === '') return false
  if (origin === 'null') return true
  // Compared as origins: a Referer is a whole URL, never equal to an allowed origin.
  const sourceOrigin = originOf(source)
  if (sourceOrigin !== null && allowedOrigins.some(o => o.replace(/\/$/, '') === sourceOrigin)) return false
  const sourceHost = hostOf(source)
  if (sourceHost === null) return true
  return sourceHost !== stripDefaultPort(request.host)
}
