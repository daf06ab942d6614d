import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import errorHandler from '../http/error-handler.js'
import { securityHeaders } from '../http/security-headers.js'
import { requireUtf8 } from '../http/utf8.js'

/** What every request meets before any route: the error handler, body parsers, security headers, rate limiting. */
export default fp(async function http (app, opts: { bodyLimit: number }) {
  await app.register(errorHandler)
  await app.register(cookie)
  await app.register(formbody, { bodyLimit: opts.bodyLimit })
  // curl scripts send `Content-Type: application/json` with no body on bodiless
  // routes (logout, join, DELETE): read that as no body rather than refuse it.
  const jsonParser = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) { done(null, undefined); return }
    jsonParser(request, String(body), done)
  })
  await app.register(helmet, securityHeaders)
  app.addHook('preParsing', requireUtf8)
  await app.register(rateLimit, { global: false })
}, { name: 'http' })
