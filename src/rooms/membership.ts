import type { Db, Tx } from '../db/connect.js'
import type { PendingEvents } from '../events/event-log.js'
import type { PublicUser } from '../events/event.js'
import { AppError } from '../http/errors.js'
import { findUserByUsername, type UserRecord } from '../auth/users.js'
import * as repo from './repository.js'

/** The user of that name, or 404. */
export async function userNamed (db: Db, username: string): Promise<UserRecord> {
  const target = await findUserByUsername(db, username)
  if (target === undefined) throw new AppError('not_found', 'No such user.')
  return target
}

/** One member out, with its event; a channel left empty is archived, so abandoned rooms do not pile up. */
export async function removeMember (trx: Tx, pending: PendingEvents, room: repo.Room, member: PublicUser, by: PublicUser | null): Promise<boolean> {
  if (!await repo.removeMembership(trx, room.id, Number(member.id))) return false
  pending.append({ type: 'member.left', roomId: room.id, user: member, payload: by === null ? undefined : { target: member, by } })
  if (room.kind === 'channel' && !room.archived && await repo.countMembers(trx, room.id) === 0) {
    const event = pending.append({ type: 'room.archived', roomId: room.id, user: member, payload: { room: repo.roomJson(room) } })
    await repo.archiveRoom(trx, room.id, event.createdAt)
  }
  return true
}
