import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The security headers of documents (the web client's pages, scripts, styles
 * and files): a strict CSP (the client loads only its own scripts and styles,
 * and talks only to its own origin), nosniff, and no framing.
 */
const documentHeaders = {
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
 * The security headers of JSON answers, the set OWASP's REST Security Cheat
 * Sheet asks of an API: a CSP that allows nothing (a JSON answer opened as a
 * page runs nothing and cannot be framed), no framing, nosniff, the resource
 * kept to its own origin, no referrer. The rest of the document set
 * (opener policy, origin-agent cluster, DNS prefetch, IE download options,
 * Flash policy files, the old XSS auditor) only acts on pages; on every poll
 * answer it was 330 bytes that each client and proxy read for nothing.
 */
const apiHeaders = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  frameguard: { action: 'deny' as const },
  strictTransportSecurity: false,
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false
}

type HeaderList = ReadonlyArray<readonly [string, string]>

/**
 * The headers helmet sets for a configuration, worked out once at start-up:
 * they never depend on the request, and running helmet's dozen middlewares on
 * every answer cost more than a thousand polls' worth of answering.
 */
function computeHeaderList (options: typeof documentHeaders | typeof apiHeaders): HeaderList {
  const list: Array<readonly [string, string]> = []
  const capture = {
    setHeader (name: string, value: string) { list.push([name.toLowerCase(), String(value)]) },
    // Helmet removes X-Powered-By, which neither Node nor Fastify sets.
    removeHeader () {}
  }
  let done = false
  helmet(options)({} as IncomingMessage, capture as unknown as ServerResponse, () => { done = true })
  if (!done || list.length === 0) throw new Error('helmet did not produce the security headers synchronously')
  return list
}

export const documentHeaderList = computeHeaderList(documentHeaders)
export const apiHeaderList = computeHeaderList(apiHeaders)

/** JSON answers get the API set; everything else (pages, scripts, files) the document set. */
function headerListFor (contentType: unknown): HeaderList {
  return typeof contentType === 'string' && contentType.startsWith('application/json') ? apiHeaderList : documentHeaderList
}

/** For the JSON error Fastify makes before any hook runs (an undecodable URL). */
export function applyApiSecurityHeaders (res: ServerResponse): void {
  for (const [name, value] of apiHeaderList) if (!res.hasHeader(name)) res.setHeader(name, value)
}

/** The set for the reply's type; a header a route set itself (a file's `sandbox` CSP) wins. */
function addSecurityHeaders (reply: FastifyReply): void {
  for (const [name, value] of headerListFor(reply.getHeader('content-type'))) if (reply.getHeader(name) === undefined) reply.header(name, value)
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
