import type { Tx } from '../db/connect.js'
import { isDuplicateKey } from '../db/errors.js'
import type { PublicUser } from '../events/event.js'
import { AppError } from '../http/errors.js'
import { publicUser, type UserRecord } from '../auth/users.js'
import type { AuthUser } from '../auth/service.js'
import { rank } from './access.js'
import * as mod from './moderation-repository.js'
import * as repo from './repository.js'
import type { RoomAccess } from './access.js'
import { removeMember, userNamed } from './membership.js'
import type { Db } from '../db/connect.js'
import type { EventLog } from '../events/event-log.js'

export interface RoomChange { name?: string | undefined, topic?: string | undefined, visibility?: repo.Room['visibility'] | undefined }

const roomExists = (): AppError => new AppError('room_exists', 'A room with that name exists.')

/** What a channel's moderators and owner do (RoomAccess.withRole checks who). Every change is an event in the room. */
export class ModerationService {
  constructor (private readonly deps: { db: Db, eventLog: EventLog, access: RoomAccess }) {}

  /** Moderators rename a channel, set its topic and visibility. */
  async update (user: AuthUser, ref: string, change: RoomChange): Promise<repo.Room> {
    const { room } = await this.deps.access.withRole(ref, user, 'moderator')
    const set: { name?: string, topic?: string | null, visibility?: repo.Room['visibility'] } = {}
    if (change.name !== undefined && change.name !== room.name) set.name = change.name
    if (change.topic !== undefined) set.topic = change.topic.trim() === '' ? null : change.topic
    if (change.visibility !== undefined) set.visibility = change.visibility
    const updated: repo.Room = { ...room, ...set }
    try {
      await this.deps.eventLog.write(async (trx, pending) => {
        if (set.name !== undefined && await repo.findRoomByName(trx, set.name) !== undefined) throw roomExists()
        await repo.updateRoom(trx, room.id, set)
        pending.append({ type: 'room.updated', roomId: room.id, user: publicUser(user), payload: { room: repo.roomJson(updated) } })
      })
    } catch (err) {
      if (isDuplicateKey(err)) throw roomExists()
      throw err
    }
    return updated
  }

  /** The owner names moderators (and takes the role back). */
  async setRole (user: AuthUser, ref: string, username: string, role: 'moderator' | 'member'): Promise<void> {
    const { room } = await this.deps.access.withRole(ref, user, 'owner')
    const target = await userNamed(this.deps.db, username)
    await this.deps.eventLog.write(async (trx, pending) => {
      const current = await repo.roleOf(trx, room.id, target.id)
      if (current === undefined) throw new AppError('not_found', 'That user is not a member of this room.')
      if (current === 'owner') throw new AppError('forbidden', "The owner's role cannot change.")
      if (current === role) return
      await repo.setRole(trx, room.id, target.id, role)
      pending.append({ type: 'member.role', roomId: room.id, user: publicUser(user), payload: { target: publicUser(target), role } })
    })
  }

  /** Whether the actor outranks the target here (administrators rank as owners). */
  private async outranks (trx: Tx, actorRank: number, roomId: number, target: UserRecord): Promise<boolean> {
    const role = await repo.roleOf(trx, roomId, target.id)
    const targetRank = target.isAdmin ? rank.owner : role === undefined ? 0 : rank[role]
    return actorRank > targetRank
  }

  async kick (user: AuthUser, ref: string, username: string): Promise<void> {
    const { room, rank: actorRank } = await this.deps.access.withRole(ref, user, 'moderator')
    const target = await userNamed(this.deps.db, username)
    await this.deps.eventLog.write(async (trx, pending) => {
      if (!await repo.isMember(trx, room.id, target.id)) throw new AppError('not_found', 'That user is not a member of this room.')
      if (!await this.outranks(trx, actorRank, room.id, target)) throw new AppError('forbidden', 'You cannot remove a member of equal or higher rank.')
      await removeMember(trx, pending, room, publicUser(target), publicUser(user))
    })
  }

  /** Bans a user (a member leaves at once): they cannot join, be added or post until unbanned. */
  async ban (user: AuthUser, ref: string, username: string): Promise<void> {
    const { room, rank: actorRank } = await this.deps.access.withRole(ref, user, 'moderator')
    const target = await userNamed(this.deps.db, username)
    const by = publicUser(user)
    await this.deps.eventLog.write(async (trx, pending) => {
      if (!await this.outranks(trx, actorRank, room.id, target)) throw new AppError('forbidden', 'You cannot ban a member of equal or higher rank.')
      if (await mod.isBanned(trx, room.id, target.id)) return
      await mod.addBan(trx, room.id, target.id, user.id)
      pending.append({ type: 'member.banned', roomId: room.id, user: by, payload: { target: publicUser(target), by } })
      await removeMember(trx, pending, room, publicUser(target), by)
    })
  }

  async unban (user: AuthUser, ref: string, username: string): Promise<void> {
    const { room } = await this.deps.access.withRole(ref, user, 'moderator')
    const target = await userNamed(this.deps.db, username)
    const by = publicUser(user)
    await this.deps.eventLog.write(async (trx, pending) => {
      if (await mod.removeBan(trx, room.id, target.id)) {
        pending.append({ type: 'member.unbanned', roomId: room.id, user: by, payload: { target: publicUser(target), by } })
      }
    })
  }

  async bans (user: AuthUser, ref: string): Promise<Array<{ user: PublicUser, by: PublicUser, createdAt: string }>> {
    const { room } = await this.deps.access.withRole(ref, user, 'moderator')
    return await mod.listBans(this.deps.db, room.id)
  }

  /** The owner archives a channel: read-only from now on, out of every list, its history kept for its members. */
  async archive (user: AuthUser, ref: string): Promise<void> {
    const { room } = await this.deps.access.withRole(ref, user, 'owner')
    await this.deps.eventLog.write(async (trx, pending) => {
      const event = pending.append({ type: 'room.archived', roomId: room.id, user: publicUser(user), payload: { room: repo.roomJson(room) } })
      await repo.archiveRoom(trx, room.id, event.createdAt)
    })
  }
}
