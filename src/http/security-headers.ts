import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The security headers of every answer: a strict CSP for the web client (it
 * loads only its own scripts and styles, and talks only to its own origin),
 * nosniff, and no framing.
 */
export const securityHeaders = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"]
    }
  },
  frameguard: { action: 'deny' as const },
  // Behind plain-HTTP proxies HSTS is the operator's decision, not the app's.
  strictTransportSecurity: false,
  crossOriginEmbedderPolicy: false
}

/**
 * The headers helmet sets for that configuration, worked out once at start-up:
 * they never depend on the request, and running helmet's dozen middlewares on
 * every answer cost more than a thousand polls' worth of answering.
 */
function computeHeaderList (): ReadonlyArray<readonly [string, string]> {
  const list: Array<readonly [string, string]> = []
  const capture = {
    setHeader (name: string, value: string) { list.push([name.toLowerCase(), String(value)]) },
    // Helmet removes X-Powered-By, which neither Node nor Fastify sets.
    removeHeader () {}
  }
  let done = false
  helmet(securityHeaders)({} as IncomingMessage, capture as unknown as ServerResponse, () => { done = true })
  if (!done || list.length === 0) throw new Error('helmet did not produce the security headers synchronously')
  return list
}

export const securityHeaderList = computeHeaderList()

/**
 * For answers Fastify makes before any hook runs (an undecodable URL) and for
 * servers outside Fastify. A header the answer already has is kept.
 */
export function applySecurityHeaders (_req: IncomingMessage, res: ServerResponse): void {
  for (const [name, value] of securityHeaderList) if (!res.hasHeader(name)) res.setHeader(name, value)
}

/** The same on a Fastify reply: a header a route set itself (a file's `sandbox` CSP) wins. */
export function addSecurityHeaders (reply: FastifyReply): void {
  for (const [name, value] of securityHeaderList) if (reply.getHeader(name) === undefined) reply.header(name, value)
}

/**
 * Adds the headers to every answer as it is sent (success, error, 404, static
 * file): a held poll carries none of them while it waits. A plain callback
 * hook, so no promise is made per answer.
 */
export const securityHeadersPlugin = fp(async function securityHeadersPlugin (app: FastifyInstance) {
  app.addHook('onSend', (_request, reply, payload, done) => {
    addSecurityHeaders(reply)
    done(null, payload)
  })
}, { name: 'security-headers' })
