import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requireUser } from '../auth/plugin.js'
import { DisplayName, ErrorSchema, Id, MessageText, NoContent, RoomParams, RoomRef, TokenName } from '../http/schemas.js'
import { AppError } from '../http/errors.js'
import type { WebhookService } from './service.js'

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema }
type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

/**
 * Slack's incoming-webhook body in all the shapes tools send it: JSON, a form
 * whose `payload` holds that JSON, a form with `text`, or plain text. Other
 * Slack fields are ignored, except that attachments stand in for a missing
 * `text` (Alertmanager and others send only those).
 */
export function slackBody (body: unknown): Record<string, unknown> {
  if (typeof body === 'string') return { text: body }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {}
  let fields = body as Record<string, unknown>
  if (typeof fields.payload === 'string') {
    let parsed: unknown
    try { parsed = JSON.parse(fields.payload) } catch { parsed = null }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new AppError('invalid', 'The request is not valid.', { fields: { payload: 'must hold a JSON object' } })
    }
    fields = parsed as Record<string, unknown>
  }
  const out: Record<string, unknown> = {}
  const text = fields.text ?? attachmentsText(fields.attachments)
  if (text !== undefined) out.text = text
  if (fields.username !== undefined) out.username = fields.username
  // The contract never coerces types: `{"text": 42}` is refused, not posted as "42".
  const wrong = Object.entries(out).filter(([, v]) => typeof v !== 'string').map(([k]) => [k, 'must be a string'])
  if (wrong.length > 0) throw new AppError('invalid', 'The request is not valid.', { fields: Object.fromEntries(wrong) })
  return out
}

function attachmentsText (attachments: unknown): string | undefined {
  if (!Array.isArray(attachments)) return undefined
  const parts = attachments.map((a: Record<string, unknown> | null) => a?.fallback ?? a?.text ?? a?.title).filter((x): x is string => typeof x === 'string' && x.trim() !== '')
  return parts.length === 0 ? undefined : parts.join('\n')
}

export default async function incomingRoutes (root: FastifyInstance, opts: { webhooks: WebhookService, apiPrefix: string, limit: Hook }): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>()
  const { webhooks } = opts
  const HookParams = Type.Object({ room: RoomRef, id: Id })
  const Summary = Type.Object({ id: Id, name: Type.String(), createdAt: Type.String(), lastUsedAt: Type.Union([Type.String(), Type.Null()]) })

  app.post('/rooms/:room/incoming-webhooks', {
    schema: {
      tags: ['webhooks'],
      description: 'Makes a secret URL that posts into the room (Slack-compatible). The URL is shown once.',
      params: RoomParams,
      body: Type.Object({ name: TokenName }),
      response: { 201: Type.Object({ id: Id, name: Type.String(), url: Type.String() }), ...errors }
    }
  }, async (request, reply) => {
    const made = await webhooks.createIncoming(requireUser(request), request.params.room, request.body.name)
    const url = `${request.protocol}://${request.host}${opts.apiPrefix}/hooks/${made.secret}`
    return await reply.code(201).send({ id: made.id, name: made.name, url })
  })

  app.get('/rooms/:room/incoming-webhooks', {
    schema: { tags: ['webhooks'], params: RoomParams, response: { 200: Type.Object({ webhooks: Type.Array(Summary) }), ...errors } }
  }, async (request) => ({ webhooks: await webhooks.listIncoming(requireUser(request), request.params.room) }))

  app.delete('/rooms/:room/incoming-webhooks/:id', {
    schema: { tags: ['webhooks'], params: HookParams, response: { 204: NoContent, ...errors } }
  }, async (request, reply) => {
    await webhooks.deleteIncoming(requireUser(request), request.params.room, Number(request.params.id))
    return await reply.code(204).send(null)
  })

  app.post('/hooks/:secret', {
    config: { public: true },
    preHandler: opts.limit,
    preValidation: async (request) => { request.body = slackBody(request.body) as typeof request.body },
    schema: {
      tags: ['webhooks'],
      description: "An incoming webhook's URL: Slack's body (JSON `{text, username?}`, a form with `payload` or `text`, or text/plain) posts a message as the hook's bot. Answers `ok`.",
      params: Type.Object({ secret: Type.String({ minLength: 1, maxLength: 100 }) }),
      body: Type.Object({ text: MessageText, username: Type.Optional(DisplayName) }),
      response: { 200: Type.String(), ...errors }
    }
  }, async (request, reply) => {
    await webhooks.post(request.params.secret, request.body.text, request.body.username)
    return await reply.type('text/plain; charset=utf-8').send('ok')
  })
}
