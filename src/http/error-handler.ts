import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError, errorStatus } from './errors.js'
import { isDatabaseBusy, isDatabaseUnavailable } from '../db/errors.js'

interface ValidationItem {
  instancePath?: string
  message?: string
  params?: Record<string, unknown>
}

/** Names each bad field from ajv's report, so clients can show the message beside the input. */
export function fieldsFromValidation (items: ValidationItem[], context: string | undefined): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const item of items) {
    const params = item.params ?? {}
    let name = (item.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.')
    if (typeof params.missingProperty === 'string') name = name === '' ? params.missingProperty : `${name}.${params.missingProperty}`
    if (typeof params.additionalProperty === 'string') name = name === '' ? params.additionalProperty : `${name}.${params.additionalProperty}`
    if (name === '') name = context ?? 'body'
    const message = typeof params.additionalProperty === 'string' ? 'is not a known field' : (item.message ?? 'is not valid')
    fields[name] ??= message
  }
  return fields
}

function toAppError (err: FastifyError & { validation?: ValidationItem[], validationContext?: string }): AppError | null {
  if (err instanceof AppError) return err
  if (err.validation !== undefined) {
    return new AppError('invalid', 'The request is not valid.', { fields: fieldsFromValidation(err.validation, err.validationContext) })
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('too_large', 'The request body is too large.')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'Send JSON, a form, or (for messages) plain text.')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid', 'The request body could not be read.', { fields: { body: err.message } })
  }
  if (isDatabaseBusy(err)) return new AppError('unavailable', 'The server is busy; try again shortly.', { retryAfter: 1 })
  if (isDatabaseUnavailable(err)) return new AppError('unavailable', 'The database cannot be reached; try again shortly.', { retryAfter: 5 })
  const status = err.statusCode ?? 500
  // Whatever else Fastify or a plugin rejected as the client's fault (bad JSON, bad URL…).
  if (status >= 400 && status < 500) {
    if (status === 404) return new AppError('not_found', 'Not found.')
    if (status === 413) return new AppError('too_large', 'The request body is too large.')
    if (status === 415) return new AppError('unsupported_media_type', 'Send JSON, a form, or (for messages) plain text.')
    return new AppError('invalid', 'The request is not valid.', { fields: { request: err.message } })
  }
  return null
}

export function sendError (reply: FastifyReply, error: AppError): FastifyReply {
  const { fields, cursor, retryAfter } = error.extras
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter))
  const body: Record<string, unknown> = { code: error.code, message: error.message }
  if (fields !== undefined) body.fields = fields
  if (cursor !== undefined) body.cursor = cursor
  return reply.code(errorStatus[error.code]).header('cache-control', 'no-store').send({ error: body })
}

/** The single place where failures become the contract's `{error: {code, message}}`. */
export default fp(async function errorHandler (app: FastifyInstance) {
  app.setErrorHandler(function (err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const appError = toAppError(err)
    if (appError !== null) {
      if (appError.code === 'unavailable') request.log.warn({ err }, 'database unavailable')
      return sendError(reply, appError)
    }
    request.log.error({ err }, 'unhandled error')
    return reply.code(500).header('cache-control', 'no-store')
      .send({ error: { code: 'internal', message: 'Something went wrong on our side.' } })
  })

  app.setNotFoundHandler(function (request, reply) {
    return sendError(reply, new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0] ?? ''}.`))
  })
}, { name: 'error-handler' })
