import cookie from '@fastify/cookie'
import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import bodyParsers from '../http/body-parsers.js'
import { earlyAnswerPlugin } from '../http/early-answer.js'
import errorHandler from '../http/error-handler.js'
import { securityHeadersPlugin } from '../http/security-headers.js'
import strictBodies from '../http/validation.js'

/** What every request meets before any route: the error handler, body parsers and validators, security headers, early answers, rate limiting. */
export default fp(async function http (app) {
  await app.register(errorHandler)
  await app.register(cookie)
  await app.register(bodyParsers)
  await app.register(strictBodies)
  await app.register(securityHeadersPlugin)
  await app.register(earlyAnswerPlugin)
  await app.register(rateLimit, { global: false })
}, { name: 'http' })
