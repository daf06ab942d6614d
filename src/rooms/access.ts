import type { Db } from '../db/connect.js'
import { AppError } from '../http/errors.js'
import { findRoom, isMember, type Room } from './repository.js'

/**
 * Authorization for everything under /rooms/:room, in one place: every room
 * route resolves its room through here, so none can forget the membership check.
 */
export class RoomAccess {
  constructor (private readonly db: Db) {}

  async find (ref: string): Promise<Room> {
    const room = await findRoom(this.db, ref)
    if (room === undefined) throw new AppError('not_found', 'No such room.')
    return room
  }

  /** The room, if the user is a member; otherwise 404 or 403 `not_member`. */
  async asMember (ref: string, userId: number): Promise<Room> {
    const room = await this.find(ref)
    if (!await isMember(this.db, room.id, userId)) throw new AppError('not_member', 'You are not a member of this room.')
    return room
  }
}
