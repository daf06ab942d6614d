import fp from 'fastify-plugin'

/** Up to this many declared bytes of a refused body are read and dropped rather than the connection closed. */
const maxBytesToDiscard = 8 * 1024 * 1024

/**
 * An answer sent before its request's body was read (a body over the limit,
 * one that does not parse) carries Fastify's `Connection: close`, because the
 * client may still be sending. Closing then resets a connection that still
 * has unread bytes in it, and a proxy that is still writing the body (nginx,
 * Apache) gets the reset before it reads the answer: the user sees the
 * proxy's 502, not the app's 413 or BOSH terminate. When the body's length is
 * declared and modest, the rest is read and dropped instead (Node does that
 * for an unread body on a kept-alive connection), so the answer arrives and
 * the connection stays usable. A body of unknown or huge length still closes.
 */
export const earlyAnswerPlugin = fp(async function earlyAnswer (app) {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (reply.getHeader('connection') === 'close' && !request.raw.complete) {
      const declared = Number(request.headers['content-length'])
      if (Number.isSafeInteger(declared) && declared <= maxBytesToDiscard) {
        reply.removeHeader('connection')
        // The body parser stopped listening; the rest must still flow off the socket.
        request.raw.resume()
      }
    }
    done(null, payload)
  })
}, { name: 'early-answer' })
