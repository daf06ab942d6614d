import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { AppError } from '../http/errors.js'
import type { RateLimits } from '../http/rate-limits.js'
import { decodeUtf8 } from '../http/utf8.js'
import { handleBody, type BoshOptions } from './bosh.js'
import type { XmppServices } from './context.js'
import { boshCors } from './cors.js'
import { xmppDomains } from './jid.js'
import { xmppLimits } from './limits.js'
import { BoshStore } from './session-store.js'
import { BoshSessions } from './sessions.js'
import { terminateBody } from './stanzas.js'
import { parseXml, XmlError } from './xml.js'

export interface XmppPluginOptions { config: Config, limits: RateLimits }

// A BOSH body nests body > stanza > payload > a few levels; nothing real needs more.
const maxDepth = 16

/**
 * XMPP over BOSH (XEP-0124, XEP-0206) at `{BASE_PATH}/http-bind`: one more way
 * into the same services, authorization, rate limits and event stream as the
 * HTTP API. Every answer is a `<body/>`: a request that cannot be read gets a
 * BOSH terminate (`bad-request`), never a 4xx/5xx page a BOSH client cannot read.
 */
export default async function xmppPlugin (app: FastifyInstance, opts: XmppPluginOptions): Promise<void> {
  const { config } = opts
  const ctx: XmppServices = {
    auth: app.auth,
    rooms: app.rooms,
    messages: app.messages,
    engine: app.engine,
    presence: app.presence,
    limits: xmppLimits(opts.limits),
    domains: xmppDomains(config.xmpp.domain),
    log: app.log,
    maxHistory: 50
  }
  const sessions = new BoshSessions(ctx, new BoshStore(app.database.db), config.maxHeldPolls)
  const options: BoshOptions = { maxWaitSeconds: config.pollTimeout, inactivitySeconds: 60, maxPauseSeconds: 120, pollingSeconds: 2 }
  app.addHook('preClose', async () => { sessions.closeAll() })
  const cors = boshCors(config.xmpp.corsOrigins)
  // On every answer of this plugin, the terminates of its error handler too: a page must be able to read them.
  app.addHook('onRequest', (request, reply, done) => { cors.apply(request, reply); done() })
  app.options('/http-bind', { logLevel: 'warn', schema: { hide: true } }, async (request, reply) => { cors.preflight(request, reply); return reply })

  // Whatever the content type (clients send text/xml, some text/plain), the
  // body is read as bytes, up to BODY_LIMIT.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.bodyLimit }, (_request, body, done) => { done(null, body) })
  // Errors before the handler (an oversized body, a broken upload) still get
  // an answer a BOSH client reads: a terminate, not the API's JSON.
  app.setErrorHandler(async (err: { statusCode?: number }, request, reply) => {
    if ((err.statusCode ?? 500) >= 500) request.log.error({ err }, 'BOSH request failed')
    return await reply.code(200).header('content-type', 'text/xml; charset=utf-8').send(terminateBody((err.statusCode ?? 500) < 500 ? 'bad-request' : 'undefined-condition'))
  })

  // Not part of the JSON API's OpenAPI document: its bodies are XML (docs/XMPP.md).
  app.post('/http-bind', { logLevel: 'warn', schema: { hide: true } }, async (request, reply) => {
    reply.header('content-type', 'text/xml; charset=utf-8').header('cache-control', 'no-store')
    let text: string
    try {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      text = decodeUtf8(raw)
      return await handleBody(ctx, sessions, parseXml(text, { maxBytes: config.bodyLimit, maxDepth }), reply, request.ip, options)
    } catch (err) {
      if (err instanceof XmlError || (err instanceof AppError && err.code === 'invalid')) return terminateBody('bad-request')
      request.log.error({ err }, 'BOSH request failed')
      return terminateBody('undefined-condition')
    }
  })
}
