import type { AuthUser } from '../auth/service.js'
import { inTransaction, type Db, type Dialect } from '../db/connect.js'
import type { PublicUser } from '../events/event.js'
import { AppError } from '../http/errors.js'
import type { RoomAccess } from '../rooms/access.js'
import { botNamed, createBot, findBot } from './bots.js'
import { urlProblem } from './address-check.js'
import { asModerator } from './moderators.js'
import * as repo from './repository.js'
import { hashIncomingSecret, looksLikeIncomingSecret, newIncomingSecret, newSigningSecret } from './signing.js'

export interface WebhookServiceDeps {
  db: Db
  dialect: Dialect
  access: RoomAccess
  allowPrivate: boolean
  perRoom: number
  /** Sends through the message service, as a normal send does. */
  sendAs: (roomId: number, user: PublicUser, text: string, clientId: string | null) => Promise<unknown>
  /** A webhook was made or resumed in this room (the worker then watches its events at once). */
  onHooked?: (roomId: number) => void
}

const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString()

export interface OutgoingSummary { id: string, url: string, events: string[], createdAt: string, lastDeliveredEventId: string, failing: boolean, lastError: string | null }

/** Creating, listing and removing a room's webhooks, and posting through an incoming one. */
export class WebhookService {
  constructor (private readonly deps: WebhookServiceDeps) {}

  private async roomWithSpace (user: AuthUser, ref: string, table: 'incoming_webhooks' | 'outgoing_webhooks'): Promise<number> {
    const room = await asModerator(this.deps.db, this.deps.access, user, ref)
    if (await repo.countHooks(this.deps.db, table, room.id) >= this.deps.perRoom) {
      throw new AppError('forbidden', `A room may have at most ${this.deps.perRoom} webhooks of each kind; delete one first.`)
    }
    return room.id
  }

  /** Returns the secret once; only its hash is kept. */
  async createIncoming (user: AuthUser, ref: string, name: string): Promise<{ id: string, name: string, secret: string }> {
    const roomId = await this.roomWithSpace(user, ref, 'incoming_webhooks')
    const secret = newIncomingSecret()
    const id = await inTransaction(this.deps, async (trx) => {
      const bot = await createBot(trx, name)
      return await repo.insertIncoming(trx, { roomId, name, secretHash: hashIncomingSecret(secret), botUserId: Number(bot.id), createdBy: user.id })
    })
    return { id: String(id), name, secret }
  }

  async listIncoming (user: AuthUser, ref: string): Promise<Array<{ id: string, name: string, createdAt: string, lastUsedAt: string | null }>> {
    const room = await asModerator(this.deps.db, this.deps.access, user, ref)
    return (await repo.listIncoming(this.deps.db, room.id))
      .map(h => ({ id: String(h.id), name: h.name, createdAt: iso(h.createdAt) as string, lastUsedAt: iso(h.lastUsedAt) }))
  }

  async deleteIncoming (user: AuthUser, ref: string, id: number): Promise<void> {
    const room = await asModerator(this.deps.db, this.deps.access, user, ref)
    if (!await repo.deleteIncoming(this.deps.db, room.id, id)) throw new AppError('not_found', 'No such webhook in this room.')
  }

  /** A post to an incoming hook's URL: a message from its bot, through the normal send path. */
  async post (secret: string, text: string, username: string | undefined): Promise<void> {
    const hook = looksLikeIncomingSecret(secret) ? await repo.findIncomingBySecret(this.deps.db, hashIncomingSecret(secret)) : undefined
    if (hook === undefined) throw new AppError('not_found', 'No such webhook.')
    const hookBot = await findBot(this.deps.db, hook.botUserId)
    if (hookBot === undefined) throw new AppError('not_found', 'No such webhook.')
    const bot = await botNamed(this.deps.db, hookBot, username)
    await this.deps.sendAs(hook.roomId, bot, text, null)
    const now = Date.now()
    if (hook.lastUsedAt === null || now - hook.lastUsedAt > 60000) await repo.touchIncoming(this.deps.db, hook.id, now)
  }

  /** Subscribes a URL to the room's events from now on; the signing secret is shown once. */
  async createOutgoing (user: AuthUser, ref: string, input: { url: string, events: string[], name?: string | undefined }): Promise<OutgoingSummary & { secret: string }> {
    const roomId = await this.roomWithSpace(user, ref, 'outgoing_webhooks')
    const problem = await urlProblem(input.url, this.deps.allowPrivate)
    if (problem !== null) throw new AppError('invalid', 'That URL cannot receive webhooks.', { fields: { url: problem } })
    const secret = newSigningSecret()
    const events = [...new Set(input.events)]
    const { id, after } = await inTransaction(this.deps, async (trx) => {
      const bot = await createBot(trx, input.name ?? new URL(input.url).hostname)
      // Deliveries start after the newest committed event: none from before the subscription.
      const head = await trx.selectFrom('event_seq').select('last_id').where('id', '=', 1).executeTakeFirstOrThrow()
      const after = Number(head.last_id)
      const id = await repo.insertOutgoing(trx, { roomId, url: input.url, events, secret, botUserId: Number(bot.id), createdBy: user.id, after })
      return { id, after }
    })
    this.deps.onHooked?.(roomId)
    return { id: String(id), url: input.url, events, secret, createdAt: new Date().toISOString(), lastDeliveredEventId: String(after), failing: false, lastError: null }
  }

  async listOutgoing (user: AuthUser, ref: string): Promise<OutgoingSummary[]> {
    const room = await asModerator(this.deps.db, this.deps.access, user, ref)
    return (await repo.listOutgoing(this.deps.db, room.id)).map(h => ({
      id: String(h.id),
      url: h.url,
      events: h.events,
      createdAt: iso(h.createdAt) as string,
      lastDeliveredEventId: String(h.lastDeliveredEventId),
      failing: h.failing,
      lastError: h.lastError
    }))
  }

  async deleteOutgoing (user: AuthUser, ref: string, id: number): Promise<void> {
    const room = await asModerator(this.deps.db, this.deps.access, user, ref)
    const deleted = await inTransaction(this.deps, async (trx) => await repo.deleteOutgoing(trx, room.id, id))
    if (!deleted) throw new AppError('not_found', 'No such webhook in this room.')
  }

  async resumeOutgoing (user: AuthUser, ref: string, id: number): Promise<void> {
    const room = await asModerator(this.deps.db, this.deps.access, user, ref)
    if (!await repo.resumeOutgoing(this.deps.db, room.id, id)) throw new AppError('not_found', 'No such webhook in this room.')
    this.deps.onHooked?.(room.id)
  }
}
