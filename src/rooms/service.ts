import type { Db } from '../db/connect.js'
import { isDuplicateKey } from '../db/errors.js'
import type { EventLog } from '../events/event-log.js'
import type { PublicUser } from '../events/event.js'
import { AppError } from '../http/errors.js'
import { publicUser } from '../auth/users.js'
import type { AuthUser } from '../auth/service.js'
import { rank, type RoomAccess } from './access.js'
import { removeMember, userNamed } from './membership.js'
import { ModerationService } from './moderation.js'
import * as mod from './moderation-repository.js'
import * as repo from './repository.js'

export interface RoomServiceDeps {
  db: Db
  eventLog: EventLog
  access: RoomAccess
  maxRoomsPerUser: number
  isOnline: (userId: number, lastSeenAt: number | null) => boolean
  /** `stored`: users.away as read with lastSeenAt; false whenever the user is offline. */
  isAway: (userId: number, lastSeenAt: number | null, stored: boolean) => boolean
}

const roomExists = (): AppError => new AppError('room_exists', 'A room with that name exists.')
const banned = (): AppError => new AppError('banned', 'That user is banned from this room.')

/** Channels, direct rooms, membership and moderation. Every change is written with its event, in one transaction. */
export class RoomService {
  /** Roles, kicks, bans, renames and archiving. */
  readonly moderation: ModerationService

  constructor (private readonly deps: RoomServiceDeps) {
    this.moderation = new ModerationService(deps)
  }

  async listMine (user: AuthUser): Promise<repo.MyRoom[]> {
    return await repo.listRoomsOf(this.deps.db, user.id)
  }

  async listPublic (user: AuthUser, page: { q: string | null, after: string | null, limit: number }): Promise<{ rooms: repo.PublicRoom[], next: string | null }> {
    return await repo.listPublicRooms(this.deps.db, user.id, page)
  }

  /**
   * Rooms an account is in, and rooms it has ever created (channels and direct
   * rooms, left or archived or not), are both capped: otherwise create-and-leave
   * would make rooms without end.
   */
  private async checkRoomQuota (userId: number, creating: boolean): Promise<void> {
    const max = this.deps.maxRoomsPerUser
    if (await repo.countMemberships(this.deps.db, userId) >= max) {
      throw new AppError('forbidden', `An account may be in at most ${max} rooms.`)
    }
    if (creating && await repo.countRoomsCreatedBy(this.deps.db, userId) >= max) {
      throw new AppError('forbidden', `An account may create at most ${max} rooms.`)
    }
  }

  async create (user: AuthUser, name: string, visibility: 'public' | 'private'): Promise<repo.Room> {
    await this.checkRoomQuota(user.id, true)
    const actor = publicUser(user)
    try {
      const { result } = await this.deps.eventLog.write(async (trx, pending) => {
        // Writers are serialised by the event counter, so this check cannot race.
        if (await repo.findRoomByName(trx, name) !== undefined) throw roomExists()
        const room = await repo.insertRoom(trx, { name, kind: 'channel', visibility, directKey: null, createdBy: user.id })
        await repo.addMembership(trx, room.id, user.id, 'owner')
        // The join first: members see a room's events from their join on.
        pending.append({ type: 'member.joined', roomId: room.id, user: actor })
        pending.append({ type: 'room.created', roomId: room.id, user: actor, payload: { room: repo.roomJson(room) } })
        return room
      })
      return result
    } catch (err) {
      if (isDuplicateKey(err)) throw roomExists()
      throw err
    }
  }

  async join (user: AuthUser, ref: string): Promise<repo.Room> {
    const room = await this.deps.access.find(ref)
    if (room.kind !== 'channel' || room.visibility !== 'public') {
      // A member may "join" again harmlessly; to anyone else the room does not exist.
      if (await repo.isMember(this.deps.db, room.id, user.id)) return room
      throw await this.deps.access.refusal(room, user.id)
    }
    if (await repo.isMember(this.deps.db, room.id, user.id)) return room
    this.deps.access.assertLive(room)
    await this.addMember(room, user.id, publicUser(user), null)
    return room
  }

  /** Adds a member with its event, unless already a member; true when added. Banned users stay out. */
  private async addMember (room: repo.Room, userId: number, member: PublicUser, by: PublicUser | null): Promise<boolean> {
    if (await repo.isMember(this.deps.db, room.id, userId)) return false
    if (await mod.isBanned(this.deps.db, room.id, userId)) throw by === null ? new AppError('banned', 'You are banned from this room.') : banned()
    await this.checkRoomQuota(userId, false)
    const { result } = await this.deps.eventLog.write(async (trx, pending) => {
      if (await repo.isMember(trx, room.id, userId)) return false
      if (await mod.isBanned(trx, room.id, userId)) throw banned()
      await repo.addMembership(trx, room.id, userId, 'member')
      pending.append({ type: 'member.joined', roomId: room.id, user: member, payload: by === null ? {} : { addedBy: by } })
      return true
    })
    return result
  }

  async leave (user: AuthUser, ref: string): Promise<void> {
    const room = await this.deps.access.asMember(ref, user.id)
    await this.deps.eventLog.write(async (trx, pending) => {
      await removeMember(trx, pending, room, publicUser(user), null)
    })
  }

  /** Any member may add users to a public channel; moderators and the owner to a private one. */
  async invite (user: AuthUser, ref: string, username: string): Promise<{ added: boolean, member: PublicUser }> {
    const view = await this.deps.access.member(ref, user)
    if (view.room.kind !== 'channel') throw new AppError('forbidden', 'A direct conversation has exactly two members.')
    this.deps.access.assertLive(view.room)
    if (view.room.visibility === 'private' && view.rank < rank.moderator) {
      throw new AppError('forbidden', 'Only moderators and the owner may add users to a private channel.')
    }
    const target = await userNamed(this.deps.db, username)
    const member = publicUser(target)
    return { added: await this.addMember(view.room, target.id, member, publicUser(user)), member }
  }

  async members (user: AuthUser, ref: string): Promise<Array<PublicUser & { online: boolean, away: boolean, role: repo.Role }>> {
    const room = await this.deps.access.asMember(ref, user.id)
    const rows = await repo.listMembers(this.deps.db, room.id)
    return rows.map(m => ({
      id: m.id,
      username: m.username,
      displayName: m.displayName,
      online: this.deps.isOnline(Number(m.id), m.lastSeenAt),
      away: this.deps.isAway(Number(m.id), m.lastSeenAt, m.away),
      role: m.role
    }))
  }

  /**
   * The one direct room of two users: created on first use, also when both
   * open it at once. Opening it brings back only the caller: whoever left stays
   * out until they open it themselves. A user the other blocks cannot open it.
   */
  async direct (user: AuthUser, username: string): Promise<{ room: repo.Room, created: boolean }> {
    const other = await userNamed(this.deps.db, username)
    if (other.id === user.id) throw new AppError('invalid', 'A direct conversation needs another user.', { fields: { username: 'is yourself' } })
    if (await mod.blocks(this.deps.db, other.id, user.id)) throw new AppError('forbidden', 'This user does not accept messages from you.')
    const key = `${Math.min(user.id, other.id)}:${Math.max(user.id, other.id)}`
    const known = await repo.findDirectRoom(this.deps.db, key)
    if (known === undefined || !await repo.isMember(this.deps.db, known.id, user.id)) await this.checkRoomQuota(user.id, known === undefined)
    const me = publicUser(user)
    const them = publicUser(other)
    const { result } = await this.deps.eventLog.write(async (trx, pending) => {
      const existing = await repo.findDirectRoom(trx, key)
      if (existing !== undefined) {
        if (!await repo.isMember(trx, existing.id, user.id)) {
          await repo.addMembership(trx, existing.id, user.id, 'member')
          pending.append({ type: 'member.joined', roomId: existing.id, user: me })
        }
        return { room: existing, created: false }
      }
      const room = await repo.insertRoom(trx, { name: null, kind: 'direct', visibility: 'private', directKey: key, createdBy: user.id })
      await repo.addMembership(trx, room.id, user.id, 'member')
      await repo.addMembership(trx, room.id, other.id, 'member')
      pending.append({ type: 'member.joined', roomId: room.id, user: me })
      pending.append({ type: 'member.joined', roomId: room.id, user: them })
      pending.append({ type: 'room.created', roomId: room.id, user: me, payload: { room: repo.roomJson(room) } })
      return { room, created: true }
    })
    return result
  }

  /** Moves the read marker forward; the reader's other devices hear of it through a `read` event. */
  async markRead (user: AuthUser, ref: string, eventId: number): Promise<void> {
    const room = await this.deps.access.asMember(ref, user.id)
    await this.deps.eventLog.write(async (trx, pending) => {
      if (eventId > pending.last) throw new AppError('invalid', 'That event does not exist.', { fields: { eventId: 'is beyond the newest event' } })
      if (await repo.advanceReadMarker(trx, room.id, user.id, eventId)) {
        pending.append({ type: 'read', roomId: room.id, user: publicUser(user), targetUserId: user.id, payload: { eventId: String(eventId) } })
      }
    })
  }

  async block (user: AuthUser, username: string): Promise<void> {
    const target = await userNamed(this.deps.db, username)
    if (target.id === user.id) throw new AppError('invalid', 'You cannot block yourself.', { fields: { username: 'is yourself' } })
    await mod.addBlock(this.deps.db, user.id, target.id)
  }

  async unblock (user: AuthUser, username: string): Promise<void> {
    const target = await userNamed(this.deps.db, username)
    await mod.removeBlock(this.deps.db, user.id, target.id)
  }

  async blocks (user: AuthUser): Promise<PublicUser[]> {
    return await mod.listBlocks(this.deps.db, user.id)
  }
}
