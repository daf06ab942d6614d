import { Transform } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from './errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The body is bytes, not text (file uploads): not checked for UTF-8. */
    binaryBody?: boolean
  }
}

const notUtf8 = (): AppError => new AppError('invalid', 'The request body is not valid UTF-8.', { fields: { body: 'is not valid UTF-8' } })

/**
 * Every body the API takes is text, and UTF-8 per the contract. Fastify's
 * parsers decode bad bytes to U+FFFD without a word, so a message would be
 * stored altered; this preParsing hook refuses such a body with 400 instead.
 */
export async function requireUtf8 (request: FastifyRequest, _reply: FastifyReply, payload: NodeJS.ReadableStream): Promise<NodeJS.ReadableStream> {
  if (request.method === 'GET' || request.method === 'HEAD' || request.routeOptions.config.binaryBody === true) return payload
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const check = new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      try {
        decoder.decode(chunk, { stream: true })
        callback(null, chunk)
      } catch {
        callback(notUtf8())
      }
    },
    flush (callback) {
      try {
        decoder.decode()
        callback()
      } catch {
        callback(notUtf8())
      }
    }
  })
  return payload.pipe(check)
}
