import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * CORS for the BOSH endpoint only (XMPP_CORS_ORIGINS), so Converse.js served
 * from another origin can post to it. BOSH carries its credentials inside the
 * body (SASL), never in cookies, so no `Access-Control-Allow-Credentials`:
 * a page elsewhere gains nothing a script outside a browser could not do.
 * Origins not listed get no CORS headers, and the browser keeps the answer
 * from the page.
 */
export function boshCors (origins: readonly string[]): {
  /** Sets the headers on an answer to a listed origin. */
  apply: (request: FastifyRequest, reply: FastifyReply) => void
  /** The preflight (OPTIONS) answer. */
  preflight: (request: FastifyRequest, reply: FastifyReply) => void
} {
  const allowed = new Set(origins)
  const listed = (request: FastifyRequest): string | null => {
    const origin = request.headers.origin
    return origin !== undefined && allowed.has(origin) ? origin : null
  }
  return {
    apply (request, reply) {
      if (allowed.size === 0) return
      reply.header('vary', 'Origin')
      const origin = listed(request)
      if (origin !== null) reply.header('access-control-allow-origin', origin)
    },
    preflight (request, reply) {
      const origin = listed(request)
      reply.header('vary', 'Origin')
      if (origin !== null && request.headers['access-control-request-method'] === 'POST') {
        reply.header('access-control-allow-origin', origin)
          .header('access-control-allow-methods', 'POST')
          // Clients send text/xml, which is not a CORS-safelisted content type.
          .header('access-control-allow-headers', 'Content-Type')
          .header('access-control-max-age', '86400')
      }
      reply.code(204).send()
    }
  }
}
