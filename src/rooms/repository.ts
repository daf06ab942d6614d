import type { Executor } from '../db/connect.js'
import type { RoomRow } from '../db/rows.js'
import type { PublicUser } from '../events/event.js'

export interface Room {
  id: number
  name: string | null
  kind: 'channel' | 'direct'
  visibility: 'public' | 'private'
}

const toRoom = (r: RoomRow): Room => ({ id: Number(r.id), name: r.name, kind: r.kind, visibility: r.visibility })

export const roomJson = (r: Room): { id: string, name: string | null, kind: Room['kind'], visibility: Room['visibility'] } =>
  ({ id: String(r.id), name: r.name, kind: r.kind, visibility: r.visibility })

/** `:room` is an id (all digits) or a channel name (never all digits). */
export async function findRoom (db: Executor, ref: string): Promise<Room | undefined> {
  const q = db.selectFrom('rooms').select(['id', 'name', 'kind', 'visibility'])
  const row = /^[0-9]+$/.test(ref)
    ? await q.where('id', '=', ref).executeTakeFirst()
    : await q.where('name', '=', ref).executeTakeFirst()
  return row === undefined ? undefined : toRoom(row)
}

export async function findRoomByName (db: Executor, name: string): Promise<Room | undefined> {
  const row = await db.selectFrom('rooms').select(['id', 'name', 'kind', 'visibility']).where('name', '=', name).executeTakeFirst()
  return row === undefined ? undefined : toRoom(row)
}

export async function findDirectRoom (db: Executor, key: string): Promise<Room | undefined> {
  const row = await db.selectFrom('rooms').select(['id', 'name', 'kind', 'visibility']).where('direct_key', '=', key).executeTakeFirst()
  return row === undefined ? undefined : toRoom(row)
}

export async function insertRoom (db: Executor, r: { name: string | null, kind: Room['kind'], visibility: Room['visibility'], directKey: string | null, createdBy: number }): Promise<Room> {
  const result = await db.insertInto('rooms').values({
    name: r.name, kind: r.kind, visibility: r.visibility, direct_key: r.directKey, created_by: r.createdBy, created_at: Date.now()
  }).executeTakeFirstOrThrow()
  return { id: Number(result.insertId), name: r.name, kind: r.kind, visibility: r.visibility }
}

export async function isMember (db: Executor, roomId: number, userId: number): Promise<boolean> {
  const row = await db.selectFrom('memberships').select('user_id').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst()
  return row !== undefined
}

export async function addMembership (db: Executor, roomId: number, userId: number, role: 'owner' | 'member'): Promise<void> {
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

export interface MyRoom extends Room { unread: number, lastEventId: number | null, peer: PublicUser | null }

/** The caller's rooms with unread counts (others' live messages after the read marker). */
export async function listRoomsOf (db: Executor, userId: number): Promise<MyRoom[]> {
  const rows = await db.selectFrom('memberships as m')
    .innerJoin('rooms as r', 'r.id', 'm.room_id')
    .select(['r.id', 'r.name', 'r.kind', 'r.visibility'])
    .select(eb => [
      eb.selectFrom('events as e').select(sub => sub.fn.max('e.id').as('x')).whereRef('e.room_id', '=', 'r.id').where('e.target_user_id', 'is', null).as('last_event_id'),
      eb.selectFrom('messages as msg').select(sub => sub.fn.countAll().as('n'))
        .whereRef('msg.room_id', '=', 'r.id')
        .whereRef('msg.id', '>', 'm.last_read_event_id')
        .where('msg.user_id', '<>', userId)
        .where('msg.deleted_at', 'is', null)
        .as('unread'),
      eb.selectFrom('memberships as o').innerJoin('users as ou', 'ou.id', 'o.user_id')
        .select('ou.id').whereRef('o.room_id', '=', 'r.id').where('o.user_id', '<>', userId).where('r.kind', '=', 'direct').limit(1).as('peer_id')
    ])
    .where('m.user_id', '=', userId)
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
    lastEventId: r.last_event_id === null || r.last_event_id === undefined ? null : Number(r.last_event_id),
    peer: r.peer_id === null || r.peer_id === undefined ? null : peers.get(Number(r.peer_id)) ?? null
  }))
}

export async function listPublicRooms (db: Executor, userId: number): Promise<Array<Room & { memberCount: number, joined: boolean }>> {
  const rows = await db.selectFrom('rooms as r')
    .select(['r.id', 'r.name', 'r.kind', 'r.visibility'])
    .select(eb => [
      eb.selectFrom('memberships as m').select(sub => sub.fn.countAll().as('n')).whereRef('m.room_id', '=', 'r.id').as('member_count'),
      eb.selectFrom('memberships as j').select('j.user_id').whereRef('j.room_id', '=', 'r.id').where('j.user_id', '=', userId).as('joined')
    ])
    .where('r.kind', '=', 'channel')
    .where('r.visibility', '=', 'public')
    .orderBy('r.name')
    .limit(1000)
    .execute()
  return rows.map(r => ({ ...toRoom(r), memberCount: Number(r.member_count ?? 0), joined: r.joined !== null && r.joined !== undefined }))
}

export async function listMembers (db: Executor, roomId: number): Promise<Array<PublicUser & { lastSeenAt: number | null }>> {
  const rows = await db.selectFrom('memberships as m').innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.username', 'u.display_name', 'u.last_seen_at'])
    .where('m.room_id', '=', roomId)
    .orderBy('u.username')
    .execute()
  return rows.map(r => ({ id: String(r.id), username: r.username, displayName: r.display_name, lastSeenAt: r.last_seen_at === null ? null : Number(r.last_seen_at) }))
}

/** Moves the read marker forward only; true when it moved. */
export async function advanceReadMarker (db: Executor, roomId: number, userId: number, eventId: number): Promise<boolean> {
  const result = await db.updateTable('memberships').set({ last_read_event_id: eventId })
    .where('room_id', '=', roomId).where('user_id', '=', userId).where('last_read_event_id', '<', eventId)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}
