import type { Db } from '../db/connect.js'
import type { EventLog } from '../events/event-log.js'
import type { PublicUser } from '../events/event.js'
import { AppError } from '../http/errors.js'
import type { AuthUser } from '../auth/service.js'
import { publicUser } from '../auth/users.js'
import { rank, type RoomAccess } from '../rooms/access.js'
import { membersNamed } from '../rooms/repository.js'
import { eventJson } from '../events/event.js'
import * as repo from './repository.js'
import { markDeletedForMessage } from '../attachments/repository.js'
import { SenderCheckFailed, type SendBatcher, type SendResult } from './send-batcher.js'
import { findUserByToken } from '../auth/users.js'

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
// `@name` not preceded by a word character (so e-mail addresses are not
// mentions); a name's trailing dots are taken as punctuation.
const mentionPattern = /(?<![\w@.-])@([A-Za-z0-9_.-]{3,32})/g
const mentionCap = 50
// Channels a token has sent to, by user and the room as the request named it
// (id or name): bounded, and only a hint (each use is checked again in the
// send's transaction, a name against the room's name then).
const knownChannelsCap = 50000

/** The lower-case usernames a text mentions, at most a few dozen. */
export function mentionedNames (text: string): string[] {
  if (!text.includes('@')) return []
  const names = new Set<string>()
  for (const match of text.matchAll(mentionPattern)) {
    const name = (match[1] ?? '').replace(/\.+$/, '').toLowerCase()
    if (name.length >= 3) names.add(name)
    if (names.size >= mentionCap) break
  }
  return [...names]
}

/** Sending, history, edits, deletions and typing notices in a room the caller belongs to. */
export class MessageService {
  private readonly lastTyping = new Map<string, number>()
  /** `userId:ref` (the room's id or name, as sent) to the room id, of channels a sender with a token was allowed to write to. */
  private readonly knownChannels = new Map<string, number>()

  constructor (private readonly deps: MessageServiceDeps) {}

  /** Group-commit transactions of sends so far, for the stats route. */
  get sendBatches (): number { return this.deps.batcher.batches }

  /**
   * A caller whose token came from memory (`unverified`) sending to a channel
   * (by id or name) it sent to before takes the fast way: no lookups here, the token,
   * account and membership are checked in the batch's transaction, one
   * statement for the whole batch. Otherwise, or when that check fails, the
   * caller and room are read from the database first, as every route does.
   */
  async send (caller: AuthUser, ref: string, text: string, clientId: string | null): Promise<SendResult> {
    let user = caller
    if (user.unverified === true && user.tokenId !== null) {
      const key = `${user.id}:${ref}`
      const roomId = this.knownChannels.get(key)
      if (roomId !== undefined) {
        const roomName = ref === String(roomId) ? null : ref
        try {
          return await this.deps.batcher.send({ roomId, user: publicUser(user), text, clientId, mentions: await this.mentions(roomId, user.id, text), check: { tokenId: user.tokenId, roomName } })
        } catch (err) {
          if (!(err instanceof SenderCheckFailed)) throw err
          this.knownChannels.delete(key)
        }
      }
      user = await this.verified(user, user.tokenId)
    }
    const { room } = await this.deps.access.writer(ref, user)
    // Only a ref the check can confirm: the id, or the name exactly as stored.
    if (user.tokenId !== null && room.kind === 'channel' && (ref === String(room.id) || ref === room.name)) {
      if (this.knownChannels.size >= knownChannelsCap) this.knownChannels.clear()
      this.knownChannels.set(`${user.id}:${ref}`, room.id)
    }
    return await this.deps.batcher.send({ roomId: room.id, user: publicUser(user), text, clientId, mentions: await this.mentions(room.id, user.id, text) })
  }

  /** The caller of a token as stored now (what authentication answers without memory), or 401. */
  private async verified (user: AuthUser, tokenId: number): Promise<AuthUser> {
    const stored = await findUserByToken(this.deps.db, tokenId)
    if (stored === undefined || stored.id !== user.id || stored.disabled) throw new AppError('unauthenticated', 'That token is not valid.')
    return { id: stored.id, username: stored.username, displayName: stored.displayName, isAdmin: stored.isAdmin, via: 'token', sessionId: null, tokenId }
  }

  /** The ids of the room's members a text mentions (not its author). */
  private async mentions (roomId: number, authorId: number, text: string): Promise<number[]> {
    const ids = await membersNamed(this.deps.db, roomId, mentionedNames(text))
    return ids.filter(id => id !== authorId)
  }

  /**
   * Sends as a user the caller has already authorised (a webhook's bot, which
   * is no member): the same group commit and event stream as every send.
   */
  async sendAs (roomId: number, user: PublicUser, text: string, clientId: string | null): Promise<SendResult> {
    return await this.deps.batcher.send({ roomId, user, text, clientId })
  }

  async history (user: AuthUser, ref: string, bounds: repo.PageBounds, limit: number): Promise<repo.HistoryPage> {
    const room = await this.deps.access.asMember(ref, user.id)
    return await repo.history(this.deps.db, room.id, bounds, limit)
  }

  private async live (roomId: number, messageId: number): Promise<repo.MessageRecord> {
    const message = await repo.findMessage(this.deps.db, roomId, messageId)
    if (message === undefined || message.deleted) throw new AppError('not_found', 'No such message.')
    return message
  }

  /** Only the author edits: nobody may put words in another's mouth, administrators included. */
  async edit (user: AuthUser, ref: string, messageId: number, text: string): Promise<string> {
    const { room } = await this.deps.access.writer(ref, user)
    const message = await this.live(room.id, messageId)
    if (message.userId !== user.id) throw new AppError('forbidden', 'Only its author may edit a message.')
    const mentions = await this.mentions(room.id, user.id, text)
    const { result } = await this.deps.eventLog.write(async (trx, pending) => {
      const current = await repo.findMessage(trx, room.id, messageId)
      if (current === undefined || current.deleted) throw new AppError('not_found', 'No such message.')
      const event = pending.append({
        type: 'message.edited',
        roomId: room.id,
        user: publicUser(user),
        payload: { messageId: String(messageId), text, ...(mentions.length > 0 ? { mentions: mentions.map(String) } : {}) }
      })
      await repo.updateText(trx, messageId, text, event.createdAt)
      await repo.replaceMentions(trx, messageId, room.id, mentions)
      return eventJson(event)
    })
    return result
  }

  /** The author, the room's moderators and owner, and administrators delete; the event names who (`by`). */
  async remove (user: AuthUser, ref: string, messageId: number): Promise<void> {
    const view = await this.deps.access.member(ref, user)
    this.deps.access.assertLive(view.room)
    const message = await this.live(view.room.id, messageId)
    if (message.userId !== user.id && view.rank < rank.moderator) {
      throw new AppError('forbidden', "Only its author or the room's moderators may delete a message.")
    }
    const by = publicUser(user)
    await this.deps.eventLog.write(async (trx, pending) => {
      const current = await repo.findMessage(trx, view.room.id, messageId)
      if (current === undefined || current.deleted) throw new AppError('not_found', 'No such message.')
      const event = pending.append({ type: 'message.deleted', roomId: view.room.id, user: by, payload: { messageId: String(messageId), by } })
      await repo.markDeleted(trx, messageId, event.createdAt)
      await markDeletedForMessage(trx, messageId, event.createdAt)
    })
    await this.deps.onDeleted?.(messageId)
  }

  async typing (user: AuthUser, ref: string): Promise<void> {
    const { room } = await this.deps.access.writer(ref, user)
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
