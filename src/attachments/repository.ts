import type { Executor } from '../db/connect.js'

/** An attachment as message events show it. */
export interface AttachmentJson {
  id: string
  name: string
  size: number
  contentType: string
  /** Relative to the app's root (`{BASE_PATH}/`), like every URL of the web client. */
  url: string
  width?: number
  height?: number
}

export interface Attachment {
  id: number
  roomId: number
  name: string
  size: number
  contentType: string
  width: number | null
  height: number | null
  storageKey: string
}

export const fileUrl = (id: number, name: string): string => `api/files/${id}/${encodeURIComponent(name)}`

export function attachmentJson (a: Pick<Attachment, 'id' | 'name' | 'size' | 'contentType' | 'width' | 'height'>): AttachmentJson {
  return {
    id: String(a.id),
    name: a.name,
    size: a.size,
    contentType: a.contentType,
    url: fileUrl(a.id, a.name),
    ...(a.width === null || a.height === null ? {} : { width: a.width, height: a.height })
  }
}

interface Row { id: string | number, room_id: string | number, name: string, size: string | number, content_type: string, width: number | null, height: number | null, storage_key: string }
const toAttachment = (r: Row): Attachment => ({
  id: Number(r.id), roomId: Number(r.room_id), name: r.name, size: Number(r.size), contentType: r.content_type, width: r.width, height: r.height, storageKey: r.storage_key
})
const columns = ['a.id', 'a.room_id', 'a.name', 'a.size', 'a.content_type', 'a.width', 'a.height', 'a.storage_key'] as const

/** Recorded before the first byte is stored, so housekeeping can find an interrupted upload. */
export async function insertPending (db: Executor, a: { roomId: number, userId: number, name: string, storageKey: string, now: number }): Promise<number> {
  const result = await db.insertInto('attachments').values({
    room_id: a.roomId, user_id: a.userId, name: a.name, size: 0, content_type: 'application/octet-stream', storage_key: a.storageKey, created_at: a.now
  }).executeTakeFirstOrThrow()
  return Number(result.insertId)
}

export async function completeUpload (db: Executor, id: number, a: { size: number, contentType: string, width: number | null, height: number | null }): Promise<void> {
  await db.updateTable('attachments').set({ size: a.size, content_type: a.contentType, width: a.width, height: a.height }).where('id', '=', id).execute()
}

/** Bytes the user's files take, pending uploads included. */
export async function usedBytes (db: Executor, userId: number): Promise<number> {
  const row = await db.selectFrom('attachments').select(eb => eb.fn.sum<string | number | null>('size').as('n'))
    .where('user_id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst()
  return Number(row?.n ?? 0)
}

/** Joins pending uploads to their message, inside the message's transaction. */
export async function linkToMessage (db: Executor, ids: number[], messageId: number): Promise<void> {
  if (ids.length === 0) return
  await db.updateTable('attachments').set({ message_id: messageId }).where('id', 'in', ids).where('message_id', 'is', null).execute()
}

/** A file that may be served: its message exists and is not deleted. */
export async function findServable (db: Executor, id: number): Promise<Attachment | undefined> {
  const row = await db.selectFrom('attachments as a').innerJoin('messages as m', 'm.id', 'a.message_id')
    .select(columns).where('a.id', '=', id).where('a.deleted_at', 'is', null).where('m.deleted_at', 'is', null)
    .executeTakeFirst()
  return row === undefined ? undefined : toAttachment(row)
}

/** Called in the transaction that deletes the message: from its commit on, the files are not served. */
export async function markDeletedForMessage (db: Executor, messageId: number, at: number): Promise<void> {
  await db.updateTable('attachments').set({ deleted_at: at }).where('message_id', '=', messageId).where('deleted_at', 'is', null).execute()
}

/**
 * Attachments whose bytes must go: marked deleted, belonging to a message
 * deleted by any path, or uploads that never became a message.
 */
export async function findDisposable (db: Executor, pendingBefore: number, limit: number): Promise<Array<{ id: number, storageKey: string }>> {
  const rows = await db.selectFrom('attachments as a').leftJoin('messages as m', 'm.id', 'a.message_id')
    .select(['a.id', 'a.storage_key'])
    .where(eb => eb.or([
      eb('a.deleted_at', 'is not', null),
      eb('m.deleted_at', 'is not', null),
      eb.and([eb('a.message_id', 'is', null), eb('a.created_at', '<', pendingBefore)])
    ]))
    .limit(limit).execute()
  return rows.map(r => ({ id: Number(r.id), storageKey: r.storage_key }))
}

export async function deleteRows (db: Executor, ids: number[]): Promise<void> {
  if (ids.length === 0) return
  await db.deleteFrom('attachments').where('id', 'in', ids).execute()
}

/** The live attachments of these messages, in upload order. */
export async function attachmentsByMessage (db: Executor, messageIds: number[]): Promise<Map<number, AttachmentJson[]>> {
  const out = new Map<number, AttachmentJson[]>()
  if (messageIds.length === 0) return out
  const rows = await db.selectFrom('attachments as a').select([...columns, 'a.message_id'])
    .where('a.message_id', 'in', messageIds).where('a.deleted_at', 'is', null).orderBy('a.id').execute()
  for (const r of rows) {
    const list = out.get(Number(r.message_id)) ?? []
    list.push(attachmentJson(toAttachment(r)))
    out.set(Number(r.message_id), list)
  }
  return out
}
