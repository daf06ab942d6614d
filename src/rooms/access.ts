import type { Db } from '../db/connect.js'
import { AppError } from '../http/errors.js'
import { blocks, isBanned } from './moderation-repository.js'
import { directPeerId, findRoom, roleOf, type Role, type Room } from './repository.js'

/** Who may do what: a rank per role; the site's administrators rank as owners. */
export const rank: Record<Role, number> = { member: 1, moderator: 2, owner: 3 }

export interface Caller { id: number, isAdmin: boolean }

/** A room as one member sees it: their role, and the rank they act with. */
export interface MemberView { room: Room, role: Role, rank: number }

const notFound = (): AppError => new AppError('not_found', 'No such room.')

/**
 * Authorization for everything under /rooms/:room, in one place: every room
 * route resolves its room through here, so none can forget the membership
 * check. A private channel or direct room the caller is not in answers exactly
 * like one that does not exist, so its name and existence do not leak.
 */
export class RoomAccess {
  constructor (private readonly db: Db) {}

  async find (ref: string): Promise<Room> {
    const room = await findRoom(this.db, ref)
    if (room === undefined) throw notFound()
    return room
  }

  /** The room, if the caller is a member; otherwise 404 (private, direct, none) or 403 `not_member`/`banned` (public). */
  async asMember (ref: string, userId: number): Promise<Room> {
    return (await this.member(ref, { id: userId, isAdmin: false })).room
  }

  /** The room and the caller's role in it; the same refusals as asMember. */
  async member (ref: string, caller: Caller): Promise<MemberView> {
    const room = await findRoom(this.db, ref)
    if (room === undefined) throw notFound()
    const role = await roleOf(this.db, room.id, caller.id)
    if (role === undefined) throw await this.refusal(room, caller.id)
    return { room, role, rank: caller.isAdmin ? rank.owner : rank[role] }
  }

  /** What a non-member hears: only a public channel admits it exists. */
  async refusal (room: Room, userId: number): Promise<AppError> {
    if (room.kind !== 'channel' || room.visibility !== 'public') return notFound()
    if (await isBanned(this.db, room.id, userId)) return new AppError('banned', 'You are banned from this room.')
    return new AppError('not_member', 'You are not a member of this room.')
  }

  /**
   * A member who may write here: the room is not archived, and in a direct
   * room the other user does not block the caller.
   */
  async writer (ref: string, caller: Caller): Promise<MemberView> {
    const view = await this.member(ref, caller)
    this.assertLive(view.room)
    if (view.room.kind === 'direct') {
      const peer = await directPeerId(this.db, view.room.id, caller.id)
      if (peer !== undefined && peer !== caller.id && await blocks(this.db, peer, caller.id)) {
        throw new AppError('forbidden', 'This user does not accept messages from you.')
      }
    }
    return view
  }

  /** A member of a live channel with at least the given role (administrators act as owners). */
  async withRole (ref: string, caller: Caller, least: Role): Promise<MemberView> {
    const view = await this.member(ref, caller)
    if (view.room.kind !== 'channel') throw new AppError('forbidden', 'A direct conversation has no roles.')
    this.assertLive(view.room)
    if (view.rank < rank[least]) throw new AppError('forbidden', `Only the room's ${least === 'owner' ? 'owner' : 'moderators and owner'} may do that.`)
    return view
  }

  assertLive (room: Room): void {
    if (room.archived) throw new AppError('forbidden', 'This room is archived: it is read-only.')
  }
}
