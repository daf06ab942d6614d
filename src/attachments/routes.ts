import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import multipart from '@fastify/multipart'
import { Type } from 'typebox'
import type { Readable } from 'node:stream'
import { requireUser } from '../auth/plugin.js'
import { AppError } from '../http/errors.js'
import { ErrorSchema, EventSchema, Id, RoomRef } from '../http/schemas.js'
import type { RateLimits } from '../http/rate-limits.js'
import { sendPrebuiltJson } from '../http/prebuilt-json.js'
import { inlineTypes, maxFilesPerMessage, parseRange, type AttachmentService, type UploadPart } from './service.js'

const invalidFields = (fields: Record<string, string>): AppError => new AppError('invalid', 'The request is not valid.', { fields })

const FileBytes = Type.Unsafe<Readable>({ type: 'string', format: 'binary', description: 'The bytes of the file' })
const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 413: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }

export interface AttachmentRoutesOptions {
  attachments: AttachmentService
  limits: RateLimits
  maxBytes: number
}

/** The parts of a multipart upload, as the service reads them: streamed, one at a time. */
async function * multipartParts (request: FastifyRequest, maxBytes: number): AsyncGenerator<UploadPart> {
  const parts = request.parts({
    // One byte over so the service's own count (and its message) decides; a few more files than allowed, likewise.
    limits: { fileSize: maxBytes + 1, files: maxFilesPerMessage + 1, fields: 10, fieldSize: 64 * 1024, parts: maxFilesPerMessage + 11 }
  })
  for await (const part of parts) {
    if (part.type === 'file') {
      yield { kind: 'file', field: part.fieldname, filename: part.filename, contentType: part.mimetype, stream: part.file }
    } else {
      if (part.valueTruncated) throw invalidFields({ [part.fieldname]: 'is too long' })
      yield { kind: 'field', field: part.fieldname, value: String(part.value) }
    }
  }
}

/**
 * A multipart body that breaks off or lies (cut characters, no closing
 * boundary, bad part headers) fails inside busboy with a plain Error: that is
 * the client's bad body (400), never a server fault.
 */
function unreadableMultipart (err: unknown, request: FastifyRequest): unknown {
  if (!request.isMultipart() || err instanceof AppError || !(err instanceof Error)) return err
  if ((err as { statusCode?: number }).statusCode !== undefined) return err
  if (!/form|part|boundary|multipart/i.test(err.message)) return err
  return invalidFields({ body: 'is not a readable multipart/form-data body' })
}

/** A raw body: one file, named by `?filename=`, with optional `text` and `clientId` in the query too. */
async function * rawParts (request: FastifyRequest, query: { filename?: string, text?: string, clientId?: string }): AsyncGenerator<UploadPart> {
  const body = request.body as Readable | undefined
  if (query.filename === undefined) throw invalidFields({ filename: 'is required for a raw upload (or send multipart/form-data)' })
  if (body === undefined || body === null || typeof body.pipe !== 'function') throw invalidFields({ body: 'is required: the bytes of the file' })
  if (query.clientId !== undefined) yield { kind: 'field', field: 'clientId', value: query.clientId }
  if (query.text !== undefined) yield { kind: 'field', field: 'text', value: query.text }
  yield { kind: 'file', field: 'file', filename: query.filename, contentType: request.headers['content-type'] ?? 'application/octet-stream', stream: body }
}

/** RFC 6266: an ASCII fallback and the exact UTF-8 name. */
function disposition (kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`
}

/** Whatever the bytes are, a browser must neither guess a type nor run them as a page of this origin. */
const fileHeaders = (inline: boolean, name: string): Record<string, string> => ({
  'x-content-type-options': 'nosniff',
  'content-security-policy': 'sandbox',
  'cache-control': 'private',
  'accept-ranges': 'bytes',
  'content-disposition': disposition(inline ? 'inline' : 'attachment', name)
})

export default async function attachmentRoutes (root: FastifyInstance, opts: AttachmentRoutesOptions): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { attachments, limits, maxBytes } = opts
  // In this scope alone, a body is a file: multipart, or any other type as raw bytes (never parsed, never buffered).
  app.removeAllContentTypeParsers()
  await app.register(multipart)
  app.addContentTypeParser('*', (_request, payload, done) => { done(null, payload) })

  app.post('/rooms/:room/attachments', {
    preHandler: limits.send,
    schema: {
      tags: ['attachments'],
      description: 'Share files: multipart/form-data with one or more `file` parts and optional `text` and `clientId`, or the raw bytes with `?filename=`.',
      params: Type.Object({ room: RoomRef }),
      querystring: Type.Object({
        filename: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        text: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
        clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 }))
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ event: EventSchema }), 201: Type.Object({ event: EventSchema }), ...errors }
    }
  }, async (request, reply) => {
    const user = requireUser(request)
    const parts = request.isMultipart() ? multipartParts(request, maxBytes) : rawParts(request, request.query)
    const result = await attachments.upload(user, request.params.room, parts).catch((err: unknown) => { throw unreadableMultipart(err, request) })
    return await sendPrebuiltJson(reply.code(result.created ? 201 : 200), `{"event":${result.json}}`)
  })

  app.get('/files/:id/:name', {
    schema: {
      tags: ['attachments'],
      description: 'The bytes of a file, to current members of its room. Range requests answer 206.',
      params: Type.Object({ id: Id, name: Type.String({ minLength: 1, maxLength: 255 }) }),
      response: { 200: FileBytes, 206: FileBytes, 404: ErrorSchema, 401: ErrorSchema, 416: ErrorSchema, 503: ErrorSchema }
    }
  }, async (request, reply) => {
    const attachment = await attachments.find(requireUser(request), Number(request.params.id))
    const inline = inlineTypes.has(attachment.contentType)
    reply.headers(fileHeaders(inline, attachment.name))
    const range = parseRange(request.headers.range, attachment.size)
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${attachment.size}`)
      throw new AppError('range_not_satisfiable', 'The requested range lies outside the file.')
    }
    const body = await attachments.read(attachment, range)
    reply.type(inline ? attachment.contentType : 'application/octet-stream')
    if (range === null) {
      reply.header('content-length', String(attachment.size))
      return await reply.send(body)
    }
    reply.header('content-range', `bytes ${range.start}-${range.end}/${attachment.size}`)
    reply.header('content-length', String(range.end - range.start + 1))
    return await reply.code(206).send(body)
  })
}
