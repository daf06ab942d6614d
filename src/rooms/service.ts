import type { Db } from '../db/connect.js'
import { isDuplicateKey } from '../db/errors.js'
import type { EventLog } from '../events/event-log.js'
import type { PublicUser } from '../events/event.js'
import { AppError } from '../http/errors.js'
import { findUserByUsername, publicUser } from '../auth/users.js'
import type { AuthUser } from '../auth/service.js'
import type { RoomAccess } from './access.js'
import * as repo from './repository.js'

export interface RoomServiceDeps {
  db: Db
  eventLog: EventLog
  access: RoomAccess
  maxRoomsPerUser: number
  isOnline: (userId: number, lastSeenAt: number | null) => boolean
}

/** Channels, direct rooms and membership. Every change is written with its event, in one transaction. */
export class RoomService {
  constructor (private readonly deps: RoomServiceDeps) {}

  async listMine (user: AuthUser): Promise<repo.MyRoom[]> {
    return await repo.listRoomsOf(this.deps.db, user.id)
  }

  async listPublic (user: AuthUser): Promise<Array<repo.Room & { memberCount: number, joined: boolean }>> {
    return await repo.listPublicRooms(this.deps.db, user.id)
  }

  private async checkRoomQuota (userId: number): Promise<void> {
    if (await repo.countMemberships(this.deps.db, userId) >= this.deps.maxRoomsPerUser) {
      throw new AppError('forbidden', `An account may be in at most ${this.deps.maxRoomsPerUser} rooms.`)
    }
  }

  async create (user: AuthUser, name: string, visibility: 'public' | 'private'): Promise<repo.Room> {
    await this.checkRoomQuota(user.id)
    const actor = publicUser(user)
    try {
      const { result } = await this.deps.eventLog.write(async (trx, pending) => {
        // Writers are serialised by the event counter, so this check cannot race.
        if (await repo.findRoomByName(trx, name) !== undefined) throw new AppError('room_exists', 'A room with that name exists.')
        const room = await repo.insertRoom(trx, { name, kind: 'channel', visibility, directKey: null, createdBy: user.id })
        await repo.addMembership(trx, room.id, user.id, 'owner')
        // The join first: members see a room's events from their join on.
        pending.append({ type: 'member.joined', roomId: room.id, user: actor })
        pending.append({ type: 'room.created', roomId: room.id, user: actor, payload: { room: repo.roomJson(room) } })
        return room
      })
      return result
    } catch (err) {
      if (isDuplicateKey(err)) throw new AppError('room_exists', 'A room with that name exists.')
      throw err
    }
  }

  async join (user: AuthUser, ref: string): Promise<repo.Room> {
    const room = await this.deps.access.find(ref)
    if (room.kind !== 'channel' || room.visibility !== 'public') {
      // A member may "join" again harmlessly; others need an invitation.
      if (await repo.isMember(this.deps.db, room.id, user.id)) return room
      throw new AppError('forbidden', 'This room is private: ask a member to add you.')
    }
    await this.addMember(room, user.id, publicUser(user), null)
    return room
  }

  /** Adds a member with its event, unless already a member; true when added. */
  private async addMember (room: repo.Room, userId: number, member: PublicUser, by: PublicUser | null): Promise<boolean> {
    if (await repo.isMember(this.deps.db, room.id, userId)) return false
    await this.checkRoomQuota(userId)
    const { result } = await this.deps.eventLog.write(async (trx, pending) => {
      if (await repo.isMember(trx, room.id, userId)) return false
      await repo.addMembership(trx, room.id, userId, 'member')
      pending.append({ type: 'member.joined', roomId: room.id, user: member, payload: by === null ? {} : { addedBy: by } })
      return true
    })
    return result
  }

  async leave (user: AuthUser, ref: string): Promise<void> {
    const room = await this.deps.access.asMember(ref, user.id)
    await this.deps.eventLog.write(async (trx, pending) => {
      if (await repo.removeMembership(trx, room.id, user.id)) {
        pending.append({ type: 'member.left', roomId: room.id, user: publicUser(user) })
      }
    })
  }

  /** Any member may add users to a channel. */
  async invite (user: AuthUser, ref: string, username: string): Promise<{ added: boolean, member: PublicUser }> {
    const room = await this.deps.access.asMember(ref, user.id)
    if (room.kind !== 'channel') throw new AppError('forbidden', 'A direct conversation has exactly two members.')
    const target = await findUserByUsername(this.deps.db, username)
    if (target === undefined) throw new AppError('not_found', 'No such user.')
    const member = publicUser(target)
    return { added: await this.addMember(room, target.id, member, publicUser(user)), member }
  }

  async members (user: AuthUser, ref: string): Promise<Array<PublicUser & { online: boolean }>> {
    const room = await this.deps.access.asMember(ref, user.id)
    const rows = await repo.listMembers(this.deps.db, room.id)
    return rows.map(m => ({ id: m.id, username: m.username, displayName: m.displayName, online: this.deps.isOnline(Number(m.id), m.lastSeenAt) }))
  }

  /** The one direct room of two users: created on first use, also when both open it at once. */
  async direct (user: AuthUser, username: string): Promise<{ room: repo.Room, created: boolean }> {
    const other = await findUserByUsername(this.deps.db, username)
    if (other === undefined) throw new AppError('not_found', 'No such user.')
    if (other.id === user.id) throw new AppError('invalid', 'A direct conversation needs another user.', { fields: { username: 'is yourself' } })
    const key = `${Math.min(user.id, other.id)}:${Math.max(user.id, other.id)}`
    const me = publicUser(user)
    const them = publicUser(other)
    const { result } = await this.deps.eventLog.write(async (trx, pending) => {
      const existing = await repo.findDirectRoom(trx, key)
      if (existing !== undefined) {
        // Whoever left comes back when the conversation is opened again.
        for (const [id, pub] of [[user.id, me], [other.id, them]] as const) {
          if (!await repo.isMember(trx, existing.id, id)) {
            await repo.addMembership(trx, existing.id, id, 'member')
            pending.append({ type: 'member.joined', roomId: existing.id, user: pub })
          }
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
}
