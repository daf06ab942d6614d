import type { Db } from '../db/connect.js'
import type { EventLog } from '../events/event-log.js'
import type { PublicUser } from '../events/event.js'
import { AppError } from '../http/errors.js'
import type { AuthUser } from '../auth/service.js'
import { publicUser } from '../auth/users.js'
import type { RoomAccess } from '../rooms/access.js'
import { eventJson } from '../events/event.js'
import * as repo from './repository.js'
import { markDeletedForMessage } from '../attachments/repository.js'
import type { SendBatcher, SendResult } from './send-batcher.js'

export interface MessageServiceDeps {
  db: Db
  eventLog: EventLog
  access: RoomAccess
  batcher: SendBatcher
  /** Called after a typing notice is stored, so this node's feed reads it at once. */
  onEphemeral: () => void
  /** Called after a deletion commits: the message's files are no longer served, their bytes go now. */
  onDeleted?: (messageId: number) => Promise<void>
}

const typingEveryMs = 2000

/** Sending, history, edits, deletions and typing notices in a room the caller belongs to. */
export class MessageService {
  private readonly lastTyping = new Map<string, number>()

  constructor (private readonly deps: MessageServiceDeps) {}

  async send (user: AuthUser, ref: string, text: string, clientId: string | null): Promise<SendResult> {
    const room = await this.deps.access.asMember(ref, user.id)
    return await this.deps.batcher.send({ roomId: room.id, user: publicUser(user), text, clientId })
  }

  /**
   * Sends as a user the caller has already authorised (a webhook's bot, which
   * is no member): the same group commit and event stream as every send.
   */
  async sendAs (roomId: number, user: PublicUser, text: string, clientId: string | null): Promise<SendResult> {
    return await this.deps.batcher.send({ roomId, user, text, clientId })
  }

  async history (user: AuthUser, ref: string, before: number | null, limit: number): Promise<repo.HistoryPage> {
    const room = await this.deps.access.asMember(ref, user.id)
    return await repo.history(this.deps.db, room.id, before, limit)
  }

  private async editable (user: AuthUser, roomId: number, messageId: number): Promise<repo.MessageRecord> {
    const message = await repo.findMessage(this.deps.db, roomId, messageId)
    if (message === undefined || message.deleted) throw new AppError('not_found', 'No such message.')
    if (message.userId !== user.id && !user.isAdmin) throw new AppError('forbidden', 'Only its author (or an administrator) may change a message.')
    return message
  }

  async edit (user: AuthUser, ref: string, messageId: number, text: string): Promise<string> {
    const room = await this.deps.access.asMember(ref, user.id)
    await this.editable(user, room.id, messageId)
    const { result } = await this.deps.eventLog.write(async (trx, pending) => {
      const current = await repo.findMessage(trx, room.id, messageId)
      if (current === undefined || current.deleted) throw new AppError('not_found', 'No such message.')
      const event = pending.append({ type: 'message.edited', roomId: room.id, user: publicUser(user), payload: { messageId: String(messageId), text } })
      await repo.updateText(trx, messageId, text, event.createdAt)
      return eventJson(event)
    })
    return result
  }

  async remove (user: AuthUser, ref: string, messageId: number): Promise<void> {
    const room = await this.deps.access.asMember(ref, user.id)
    await this.editable(user, room.id, messageId)
    await this.deps.eventLog.write(async (trx, pending) => {
      const current = await repo.findMessage(trx, room.id, messageId)
      if (current === undefined || current.deleted) throw new AppError('not_found', 'No such message.')
      const event = pending.append({ type: 'message.deleted', roomId: room.id, user: publicUser(user), payload: { messageId: String(messageId) } })
      await repo.markDeleted(trx, messageId, event.createdAt)
      await markDeletedForMessage(trx, messageId, event.createdAt)
    })
    await this.deps.onDeleted?.(messageId)
  }

  async typing (user: AuthUser, ref: string): Promise<void> {
    const room = await this.deps.access.asMember(ref, user.id)
    // One notice per user and room every couple of seconds is all a reader can
    // see; more would only grow the table and wake every node's feed.
    const key = `${user.id}:${room.id}`
    const now = Date.now()
    if (now - (this.lastTyping.get(key) ?? 0) < typingEveryMs) return
    this.lastTyping.set(key, now)
    await this.deps.db.insertInto('ephemeral_events').values({ room_id: room.id, user_id: user.id, type: 'typing', created_at: now }).execute()
    this.deps.onEphemeral()
  }

  /** Typing notices live a minute at most. */
  async pruneEphemeral (now = Date.now()): Promise<void> {
    for (const [key, at] of this.lastTyping) if (now - at > typingEveryMs) this.lastTyping.delete(key)
    await this.deps.db.deleteFrom('ephemeral_events').where('created_at', '<', now - 60000).execute()
  }
}
