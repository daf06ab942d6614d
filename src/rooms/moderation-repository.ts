import type { Executor } from '../db/connect.js'
import type { PublicUser } from '../events/event.js'

/* Bans (per room) and blocks (between users). */

export async function isBanned (db: Executor, roomId: number, userId: number): Promise<boolean> {
  const row = await db.selectFrom('room_bans').select('user_id').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst()
  return row !== undefined
}

export async function addBan (db: Executor, roomId: number, userId: number, by: number): Promise<void> {
  if (await isBanned(db, roomId, userId)) return
  await db.insertInto('room_bans').values({ room_id: roomId, user_id: userId, by_user_id: by, created_at: Date.now() }).execute()
}

export async function removeBan (db: Executor, roomId: number, userId: number): Promise<boolean> {
  const result = await db.deleteFrom('room_bans').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

export async function listBans (db: Executor, roomId: number): Promise<Array<{ user: PublicUser, by: PublicUser, createdAt: string }>> {
  const rows = await db.selectFrom('room_bans as b')
    .innerJoin('users as u', 'u.id', 'b.user_id')
    .innerJoin('users as m', 'm.id', 'b.by_user_id')
    .select(['u.id as uid', 'u.username as uname', 'u.display_name as udisplay', 'm.id as mid', 'm.username as mname', 'm.display_name as mdisplay', 'b.created_at'])
    .where('b.room_id', '=', roomId)
    .orderBy('u.username')
    .execute()
  return rows.map(r => ({
    user: { id: String(r.uid), username: r.uname, displayName: r.udisplay },
    by: { id: String(r.mid), username: r.mname, displayName: r.mdisplay },
    createdAt: new Date(Number(r.created_at)).toISOString()
  }))
}

/** Whether `blocker` blocks `blocked`. */
export async function blocks (db: Executor, blocker: number, blocked: number): Promise<boolean> {
  const row = await db.selectFrom('blocks').select('user_id').where('user_id', '=', blocker).where('blocked_user_id', '=', blocked).executeTakeFirst()
  return row !== undefined
}

export async function addBlock (db: Executor, blocker: number, blocked: number): Promise<void> {
  if (await blocks(db, blocker, blocked)) return
  await db.insertInto('blocks').values({ user_id: blocker, blocked_user_id: blocked, created_at: Date.now() }).execute()
}

export async function removeBlock (db: Executor, blocker: number, blocked: number): Promise<void> {
  await db.deleteFrom('blocks').where('user_id', '=', blocker).where('blocked_user_id', '=', blocked).execute()
}

export async function listBlocks (db: Executor, blocker: number): Promise<PublicUser[]> {
  const rows = await db.selectFrom('blocks as b').innerJoin('users as u', 'u.id', 'b.blocked_user_id')
    .select(['u.id', 'u.username', 'u.display_name']).where('b.user_id', '=', blocker).orderBy('u.username').execute()
  return rows.map(r => ({ id: String(r.id), username: r.username, displayName: r.display_name }))
}
