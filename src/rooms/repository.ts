import { sql } from 'kysely'
import type { Executor } from '../db/connect.js'
import type { RoomRow } from '../db/rows.js'
import type { PublicUser } from '../events/event.js'

export type Role = 'owner' | 'moderator' | 'member'

export interface Room {
  id: number
  name: string | null
  kind: 'channel' | 'direct'
  visibility: 'public' | 'private'
  topic: string | null
  archived: boolean
}

const roomColumns = ['id', 'name', 'kind', 'visibility', 'topic', 'archived_at'] as const
const toRoom = (r: RoomRow): Room => ({
  id: Number(r.id), name: r.name, kind: r.kind, visibility: r.visibility, topic: r.topic, archived: r.archived_at !== null
})

export interface RoomJson { id: string, name: string | null, kind: Room['kind'], visibility: Room['visibility'], topic: string | null }
export const roomJson = (r: Room): RoomJson =>
  ({ id: String(r.id), name: r.name, kind: r.kind, visibility: r.visibility, topic: r.topic })

/** `:room` is an id (all digits) or a channel name (never all digits). */
export async function findRoom (db: Executor, ref: string): Promise<Room | undefined> {
  const q = db.selectFrom('rooms').select(roomColumns)
  const row = /^[0-9]+$/.test(ref)
    ? await q.where('id', '=', ref).executeTakeFirst()
    : await q.where('name', '=', ref).executeTakeFirst()
  return row === undefined ? undefined : toRoom(row)
}

export async function findRoomByName (db: Executor, name: string): Promise<Room | undefined> {
  const row = await db.selectFrom('rooms').select(roomColumns).where('name', '=', name).executeTakeFirst()
  return row === undefined ? undefined : toRoom(row)
}

export async function findDirectRoom (db: Executor, key: string): Promise<Room | undefined> {
  const row = await db.selectFrom('rooms').select(roomColumns).where('direct_key', '=', key).executeTakeFirst()
  return row === undefined ? undefined : toRoom(row)
}

/** Members of a room among these (lower-case) usernames: whom a message mentions. */
export async function membersNamed (db: Executor, roomId: number, usernames: string[]): Promise<number[]> {
  if (usernames.length === 0) return []
  const rows = await db.selectFrom('memberships as m').innerJoin('users as u', 'u.id', 'm.user_id')
    .select('u.id').where('m.room_id', '=', roomId).where('u.username', 'in', usernames).execute()
  return rows.map(r => Number(r.id))
}

export async function insertRoom (db: Executor, r: { name: string | null, kind: Room['kind'], visibility: Room['visibility'], directKey: string | null, createdBy: number }): Promise<Room> {
  const result = await db.insertInto('rooms').values({
    name: r.name, kind: r.kind, visibility: r.visibility, direct_key: r.directKey, created_by: r.createdBy, created_at: Date.now()
  }).executeTakeFirstOrThrow()
  return { id: Number(result.insertId), name: r.name, kind: r.kind, visibility: r.visibility, topic: null, archived: false }
}

/** Rooms an account has created, archived or not: the quota counts these. */
export async function countRoomsCreatedBy (db: Executor, userId: number): Promise<number> {
  const row = await db.selectFrom('rooms').select(eb => eb.fn.countAll().as('n')).where('created_by', '=', userId).executeTakeFirst()
  return Number(row?.n ?? 0)
}

export async function updateRoom (db: Executor, roomId: number, change: { name?: string, topic?: string | null, visibility?: Room['visibility'] }): Promise<void> {
  if (Object.keys(change).length === 0) return
  await db.updateTable('rooms').set(change).where('id', '=', roomId).execute()
}

export async function archiveRoom (db: Executor, roomId: number, at: number): Promise<void> {
  await db.updateTable('rooms').set({ archived_at: at }).where('id', '=', roomId).execute()
}

export async function countMembers (db: Executor, roomId: number): Promise<number> {
  const row = await db.selectFrom('memberships').select(eb => eb.fn.countAll().as('n')).where('room_id', '=', roomId).executeTakeFirst()
  return Number(row?.n ?? 0)
}

/** The member's role, or undefined for a non-member. */
export async function roleOf (db: Executor, roomId: number, userId: number): Promise<Role | undefined> {
  const row = await db.selectFrom('memberships').select('role').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst()
  return row?.role
}

export async function setRole (db: Executor, roomId: number, userId: number, role: Role): Promise<void> {
  await db.updateTable('memberships').set({ role }).where('room_id', '=', roomId).where('user_id', '=', userId).execute()
}

/** The other member of a direct room, whether or not they are still in it (from the room's key). */
export async function directPeerId (db: Executor, roomId: number, userId: number): Promise<number | undefined> {
  const row = await db.selectFrom('rooms').select('direct_key').where('id', '=', roomId).executeTakeFirst()
  const ids = (row?.direct_key ?? '').split(':').map(Number)
  return ids.length === 2 ? ids.find(id => id !== userId) ?? userId : undefined
}

export async function isMember (db: Executor, roomId: number, userId: number): Promise<boolean> {
  const row = await db.selectFrom('memberships').select('user_id').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst()
  return row !== undefined
}

export async function addMembership (db: Executor, roomId: number, userId: number, role: Role): Promise<void> {
  await db.insertInto('memberships').values({ room_id: roomId, user_id: userId, role, joined_at: Date.now() }).execute()
}

export async function removeMembership (db: Executor, roomId: number, userId: number): Promise<boolean> {
  const result = await db.deleteFrom('memberships').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

export async function roomIdsOf (db: Executor, userId: number): Promise<number[]> {
  const rows = await db.selectFrom('memberships').select('room_id').where('user_id', '=', userId).execute()
  return rows.map(r => Number(r.room_id))
}

export async function countMemberships (db: Executor, userId: number): Promise<number> {
  const row = await db.selectFrom('memberships').select(eb => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirst()
  return Number(row?.n ?? 0)
}

export interface MyRoom extends Room { unread: number, mentions: number, lastEventId: number | null, peer: PublicUser | null }

/** The caller's rooms (archived ones left out) with unread counts (others' live messages after the read marker) and unread mentions. */
export async function listRoomsOf (db: Executor, userId: number): Promise<MyRoom[]> {
  const rows = await db.selectFrom('memberships as m')
    .innerJoin('rooms as r', 'r.id', 'm.room_id')
    .select(['r.id', 'r.name', 'r.kind', 'r.visibility', 'r.topic', 'r.archived_at'])
    .select(eb => [
      eb.selectFrom('events as e').select(sub => sub.fn.max('e.id').as('x')).whereRef('e.room_id', '=', 'r.id').where('e.target_user_id', 'is', null).as('last_event_id'),
      eb.selectFrom('messages as msg').select(sub => sub.fn.countAll().as('n'))
        .whereRef('msg.room_id', '=', 'r.id')
        .whereRef('msg.id', '>', 'm.last_read_event_id')
        .where('msg.user_id', '<>', userId)
        .where('msg.deleted_at', 'is', null)
        .as('unread'),
      eb.selectFrom('mentions as mn').innerJoin('messages as mm', 'mm.id', 'mn.message_id')
        .select(sub => sub.fn.countAll().as('n'))
        .where('mn.user_id', '=', userId)
        .whereRef('mn.room_id', '=', 'r.id')
        .whereRef('mn.message_id', '>', 'm.last_read_event_id')
        .where('mm.deleted_at', 'is', null)
        .as('mentions'),
      eb.selectFrom('memberships as o').innerJoin('users as ou', 'ou.id', 'o.user_id')
        .select('ou.id').whereRef('o.room_id', '=', 'r.id').where('o.user_id', '<>', userId).where('r.kind', '=', 'direct').limit(1).as('peer_id')
    ])
    .where('m.user_id', '=', userId)
    .where('r.archived_at', 'is', null)
    .orderBy('r.id')
    .execute()
  const peerIds = rows.map(r => r.peer_id).filter((x): x is string | number => x !== null && x !== undefined)
  const peers = new Map<number, PublicUser>()
  if (peerIds.length > 0) {
    const users = await db.selectFrom('users').select(['id', 'username', 'display_name']).where('id', 'in', peerIds).execute()
    for (const u of users) peers.set(Number(u.id), { id: String(u.id), username: u.username, displayName: u.display_name })
  }
  return rows.map(r => ({
    ...toRoom(r),
    unread: Number(r.unread ?? 0),
    mentions: Number(r.mentions ?? 0),
    lastEventId: r.last_event_id === null || r.last_event_id === undefined ? null : Number(r.last_event_id),
    peer: r.peer_id === null || r.peer_id === undefined ? null : peers.get(Number(r.peer_id)) ?? null
  }))
}

export interface PublicRoom extends Room { memberCount: number, joined: boolean }

/** Escapes LIKE's wildcards, with `!` as the escape character (both dialects take `ESCAPE '!'`). */
const likeContains = (q: string): string => `%${q.replace(/[!%_]/g, c => `!${c}`)}%`

/** A page of live public channels by name: those containing `q`, after the name `after`. */
export async function listPublicRooms (db: Executor, userId: number, page: { q: string | null, after: string | null, limit: number }): Promise<{ rooms: PublicRoom[], next: string | null }> {
  let query = db.selectFrom('rooms as r')
    .select(['r.id', 'r.name', 'r.kind', 'r.visibility', 'r.topic', 'r.archived_at'])
    .select(eb => [
      eb.selectFrom('memberships as m').select(sub => sub.fn.countAll().as('n')).whereRef('m.room_id', '=', 'r.id').as('member_count'),
      eb.selectFrom('memberships as j').select('j.user_id').whereRef('j.room_id', '=', 'r.id').where('j.user_id', '=', userId).as('joined')
    ])
    .where('r.kind', '=', 'channel')
    .where('r.visibility', '=', 'public')
    .where('r.archived_at', 'is', null)
  if (page.q !== null) query = query.where(sql<boolean>`r.name LIKE ${likeContains(page.q.toLowerCase())} ESCAPE '!'`)
  if (page.after !== null) query = query.where('r.name', '>', page.after)
  const rows = await query.orderBy('r.name').limit(page.limit + 1).execute()
  const rooms = rows.slice(0, page.limit).map(r => ({ ...toRoom(r), memberCount: Number(r.member_count ?? 0), joined: r.joined !== null && r.joined !== undefined }))
  return { rooms, next: rows.length > page.limit ? rooms[rooms.length - 1]?.name ?? null : null }
}

export async function listMembers (db: Executor, roomId: number): Promise<Array<PublicUser & { lastSeenAt: number | null, away: boolean, role: Role }>> {
  const rows = await db.selectFrom('memberships as m').innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.username', 'u.display_name', 'u.last_seen_at', 'u.away', 'm.role'])
    .where('m.room_id', '=', roomId)
    .orderBy('u.username')
    .execute()
  return rows.map(r => ({ id: String(r.id), username: r.username, displayName: r.display_name, lastSeenAt: r.last_seen_at === null ? null : Number(r.last_seen_at), away: Number(r.away) === 1, role: r.role }))
}

/** Moves the read marker forward only; true when it moved. */
export async function advanceReadMarker (db: Executor, roomId: number, userId: number, eventId: number): Promise<boolean> {
  const result = await db.updateTable('memberships').set({ last_read_event_id: eventId })
    .where('room_id', '=', roomId).where('user_id', '=', userId).where('last_read_event_id', '<', eventId)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}
