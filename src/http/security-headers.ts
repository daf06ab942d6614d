import helmet from 'helmet'
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The security headers of every answer: a strict CSP for the web client (it
 * loads only its own scripts and styles, and talks only to its own origin),
 * nosniff, and no framing. @fastify/helmet applies them in a hook; answers that
 * Fastify makes before any hook runs get them through `applySecurityHeaders`.
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

const apply = helmet(securityHeaders)

export function applySecurityHeaders (req: IncomingMessage, res: ServerResponse): void {
  apply(req, res, () => {})
}
