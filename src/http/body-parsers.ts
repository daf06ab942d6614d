import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from './errors.js'
import { decodeUtf8 } from './utf8.js'

const invalid = (fields: Record<string, string>): AppError => new AppError('invalid', 'The request body could not be read.', { fields })

// Keys that would reach an object's prototype: refused in every body.
const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype'])

/** `a=1&b=x+y`: every name and value percent-decoded as UTF-8; a repeated name becomes an array. */
export function parseForm (text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  if (text.trim() === '') return out
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '))
    } catch {
      throw invalid({ body: 'is not a valid form (bad percent-encoding)' })
    }
  }
  for (const pair of text.split('&')) {
    if (pair === '') continue
    const at = pair.indexOf('=')
    const name = decode(at === -1 ? pair : pair.slice(0, at))
    const value = at === -1 ? '' : decode(pair.slice(at + 1))
    if (forbiddenKeys.has(name)) throw invalid({ body: `may not name a field "${name}"` })
    const seen = out[name]
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]
  }
  return out
}

/**
 * The body parsers of the API: JSON, forms and plain text. Each reads the
 * whole body as bytes first, then decodes it strictly (see utf8.ts), so every
 * failure is this request's 400 and nothing can throw outside of it. A body of
 * any other type is never read (415 where a route takes a body).
 */
export default fp(async function bodyParsers (app: FastifyInstance) {
  const defaultJson = app.getDefaultJsonParser('error', 'error')
  const parseJson = async (request: FastifyRequest, text: string): Promise<unknown> =>
    await new Promise((resolve, reject) => { defaultJson(request, text, (err, value) => { err === null ? resolve(value) : reject(err) }) })

  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, async (request: FastifyRequest, body: Buffer | string) => {
    const text = decodeUtf8(Buffer.from(body))
    // curl scripts send `Content-Type: application/json` with no body on bodiless
    // routes (logout, join, DELETE): read that as no body rather than refuse it.
    if (text.trim() === '') return undefined
    const value = await parseJson(request, text)
    // A bare string, number, array or null is never a request: refused here, so
    // no route can mistake `"hello"` for a form or plain text.
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid({ body: 'must be a JSON object' })
    return value
  })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, async (_request: FastifyRequest, body: Buffer | string) =>
    parseForm(decodeUtf8(Buffer.from(body))))
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, async (_request: FastifyRequest, body: Buffer | string) =>
    decodeUtf8(Buffer.from(body)))
}, { name: 'body-parsers' })
