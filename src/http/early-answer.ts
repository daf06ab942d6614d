import fp from 'fastify-plugin'
import { finished } from 'node:stream/promises'

/**
 * Up to this many declared bytes of a refused body are read and dropped
 * rather than the connection closed: above the 11 MiB that deploy/'s nginx
 * snippet lets through, so every body nginx forwards gets the app's answer.
 */
const maxBytesToDiscard = 16 * 1024 * 1024
/** How long an answer that ends its connection waits for the rest of the body before it goes anyway. */
const drainWaitMs = 10_000

/**
 * An answer sent before its request's body was read (a body over the limit,
 * one that does not parse) carries Fastify's `Connection: close`, because the
 * client may still be sending. Closing then resets a connection that still
 * has bytes coming, and a proxy that is still writing the body (nginx,
 * Apache) gets the reset before it reads the answer: the user sees the
 * proxy's 502, not the app's 413 or BOSH terminate. When the body's length is
 * declared and modest, the rest is read and dropped instead:
 * - on a kept-alive connection the answer goes at once and Node drops the
 *   rest of the body before the next request;
 * - when the client asked to close after this answer (nginx's default
 *   towards its upstream), Node closes as soon as the answer is written, so
 *   the answer waits until the body has been read, at most drainWaitMs.
 * A body of unknown or huge length still closes at once.
 */
export const earlyAnswerPlugin = fp(async function earlyAnswer (app) {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (reply.getHeader('connection') !== 'close' || request.raw.complete) { done(null, payload); return }
    const declared = Number(request.headers['content-length'])
    if (!Number.isSafeInteger(declared) || declared > maxBytesToDiscard) { done(null, payload); return }
    reply.removeHeader('connection')
    // The body parser stopped listening; the rest must still flow off the socket.
    request.raw.resume()
    if (reply.raw.shouldKeepAlive) { done(null, payload); return }
    // Settles at the body's end, or when the client goes or the wait runs out
    // (the signal only ends the wait; the stream is left alone).
    finished(request.raw, { signal: AbortSignal.timeout(drainWaitMs) }).catch(() => {
      reply.header('connection', 'close')
    }).finally(() => { done(null, payload) })
  })
}, { name: 'early-answer' })
