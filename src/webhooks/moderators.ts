import type { AuthUser } from '../auth/service.js'
import type { Db } from '../db/connect.js'
import { AppError } from '../http/errors.js'
import type { RoomAccess } from '../rooms/access.js'
import type { Room } from '../rooms/repository.js'

/**
 * Webhooks are managed by a room's moderators and owner, and by the site's
 * administrators (who act as owners everywhere). Others get what the room's
 * routes give them: 404 or `not_member` when not in it, else 403 `forbidden`.
 */
export async function asModerator (db: Db, access: RoomAccess, user: AuthUser, ref: string): Promise<Room> {
  if (user.isAdmin) return await access.find(ref)
  const room = await access.asMember(ref, user.id)
  const row = await db.selectFrom('memberships').select('role').where('room_id', '=', room.id).where('user_id', '=', user.id).executeTakeFirst()
  const role: string = row?.role ?? ''
  if (role !== 'owner' && role !== 'moderator') throw new AppError('forbidden', "Only the room's moderators and owner manage its webhooks.")
  return room
}
