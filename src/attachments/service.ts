import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/connect.js'
import type { AuthUser } from '../auth/service.js'
import { publicUser } from '../auth/users.js'
import { AppError } from '../http/errors.js'
import type { SendBatcher, SendResult } from '../messages/send-batcher.js'
import { findByClientIds, eventsById } from '../messages/repository.js'
import type { RoomAccess } from '../rooms/access.js'
import { isMember } from '../rooms/repository.js'
import { sniffImage } from './image-info.js'
import * as repo from './repository.js'
import type { AttachmentStore, ByteRange } from './store.js'

const invalidFields = (fields: Record<string, string>): AppError => new AppError('invalid', 'The request is not valid.', { fields })

/** One piece of an upload: a file's bytes, or a text field. */
export type UploadPart =
  | { kind: 'file', field: string, filename: string, contentType: string, stream: Readable }
  | { kind: 'field', field: string, value: string }

export interface AttachmentServiceDeps {
  db: Db
  access: RoomAccess
  store: AttachmentStore
  /** The one send path: attachments are messages, written in the same group commit as text. */
  batcher: SendBatcher
  maxBytes: number
  quotaBytes: number
  log: FastifyBaseLogger
}

export const maxFilesPerMessage = 10
/** An upload still without its message after this long was interrupted (a request cannot take so long). */
const pendingMs = 60 * 60 * 1000

/** Served inline: images the bytes themselves proved to be (see image-info.ts). */
export const inlineTypes = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

/**
 * A name safe to show and to put in a URL: no folders, no control characters,
 * and short enough that its URL-encoded form fits a route parameter (200).
 */
export function cleanName (raw: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  let name = raw.replace(/^.*[/\\]/, '').replace(/[\u0000-\u001f\u007f]/g, '').trim()
  if (name === '' || name === '.' || name === '..') name = 'file'
  const dot = name.lastIndexOf('.')
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : ''
  let stem = [...name.slice(0, name.length - ext.length)]
  while (encodeURIComponent(stem.join('') + ext).length > 180 && stem.length > 1) stem = stem.slice(0, -1)
  return stem.join('') + ext
}

/** The type shown for a file that is no image we serve inline; never one of those. */
function declaredType (type: string): string {
  const bare = type.split(';')[0]?.trim().toLowerCase() ?? ''
  if (!/^[a-z0-9!#$&^_.+-]{1,63}\/[a-z0-9!#$&^_.+-]{1,63}$/.test(bare) || inlineTypes.has(bare)) return 'application/octet-stream'
  return bare
}

/** Contract text rules for the optional caption (as for messages). */
function checkText (text: string): string | null {
  const length = [...text].length
  if (length > 4000) return 'must be at most 4000 characters'
  if (!/\S/u.test(text)) return 'must not be only white space'
  // eslint-disable-next-line no-control-regex -- the contract refuses C0 controls other than tab and newline
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)) return 'must not contain control characters'
  return null
}

function checkClientId (id: string): string | null {
  if ([...id].length > 64) return 'must be at most 64 characters'
  if (!/\S/u.test(id)) return 'must not be only white space'
  // eslint-disable-next-line no-control-regex -- a single-line value takes no control characters
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'must not contain control characters'
  return null
}

/** A single `bytes=` range; null to send the whole file (no header, several ranges or a malformed one). */
export function parseRange (header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (m === null || (m[1] === '' && m[2] === '')) return null
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (m[2] !== '' && Number(m[2]) < start) return null
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}

interface Stored { id: number, key: string, json: repo.AttachmentJson }

/** Uploading, serving and removing the files shared in rooms. */
export class AttachmentService {
  constructor (private readonly deps: AttachmentServiceDeps) {}

  async upload (user: AuthUser, ref: string, parts: AsyncIterable<UploadPart>): Promise<SendResult> {
    const room = await this.deps.access.asMember(ref, user.id)
    const stored: Stored[] = []
    let text: string | null = null
    let clientId: string | null = null
    try {
      let used = await repo.usedBytes(this.deps.db, user.id)
      for await (const part of parts) {
        if (part.kind === 'field') {
          if (part.field === 'text') text = part.value
          else if (part.field === 'clientId') {
            clientId = part.value
            const problem = checkClientId(clientId)
            if (problem !== null) throw invalidFields({ clientId: problem })
            // A retried upload whose first try was stored: answer with it and store nothing.
            const earlier = await this.earlierEvent(user.id, clientId)
            if (earlier !== null) { await drain(parts); await this.discard(stored); return earlier }
          } else throw invalidFields({ [part.field]: 'is not a known field' })
          continue
        }
        if (part.field !== 'file') throw invalidFields({ [part.field]: 'is not a known field (files go in `file` parts)' })
        if (stored.length >= maxFilesPerMessage) throw invalidFields({ file: `at most ${maxFilesPerMessage} files per message` })
        const file = await this.store(user, room.id, part, used)
        stored.push(file)
        used += file.json.size
      }
      if (stored.length === 0) throw invalidFields({ file: 'is required' })
      if (text !== null) {
        const problem = checkText(text)
        if (problem !== null) throw invalidFields({ text: problem })
      }
      const result = await this.deps.batcher.send({
        roomId: room.id,
        user: publicUser(user),
        text: text ?? '',
        clientId,
        attachments: { ids: stored.map(s => s.id), json: stored.map(s => s.json) }
      })
      // A retry that raced its first try: that one was stored, these bytes are not needed.
      if (!result.created) await this.discard(stored)
      return result
    } catch (err) {
      await this.discard(stored)
      throw err
    }
  }

  private async earlierEvent (userId: number, clientId: string): Promise<SendResult | null> {
    const id = (await findByClientIds(this.deps.db, [{ userId, clientId }])).get(`${userId}\n${clientId}`)
    if (id === undefined) return null
    const json = (await eventsById(this.deps.db, [id])).get(id)
    return json === undefined ? null : { json, created: false }
  }

  private async store (user: AuthUser, roomId: number, part: Extract<UploadPart, { kind: 'file' }>, used: number): Promise<Stored> {
    const left = this.deps.quotaBytes - used
    const limit = Math.min(this.deps.maxBytes, left)
    if (left <= 0) throw new AppError('too_large', 'Your files have used up your storage quota.')
    const name = cleanName(part.filename)
    const key = randomBytes(16).toString('hex')
    const id = await repo.insertPending(this.deps.db, { roomId, userId: user.id, name, storageKey: key, now: Date.now() })
    try {
      const { size, head } = await this.deps.store.write(key, part.stream, limit)
      const image = sniffImage(head)
      const attachment = { id, name, size, contentType: image?.type ?? declaredType(part.contentType), width: image?.width ?? null, height: image?.height ?? null }
      await repo.completeUpload(this.deps.db, id, attachment)
      return { id, key, json: repo.attachmentJson(attachment) }
    } catch (err) {
      await repo.deleteRows(this.deps.db, [id]).catch(() => {})
      if (err instanceof AppError && err.code === 'too_large' && limit < this.deps.maxBytes) {
        throw new AppError('too_large', 'This file would go over your storage quota.')
      }
      throw err
    }
  }

  /** Removes uploads that will not become (part of) a message; housekeeping retries what fails. */
  private async discard (stored: Stored[]): Promise<void> {
    try {
      for (const s of stored) await this.deps.store.remove(s.key)
      await repo.deleteRows(this.deps.db, stored.map(s => s.id))
    } catch (err) {
      this.deps.log.warn({ err }, 'could not remove unused uploads; housekeeping will')
    }
  }

  /** A file for a current member of its room; anyone else learns nothing, not even that it exists. */
  async find (user: AuthUser, id: number): Promise<repo.Attachment> {
    const attachment = await repo.findServable(this.deps.db, id)
    if (attachment === undefined || !await isMember(this.deps.db, attachment.roomId, user.id)) {
      throw new AppError('not_found', 'No such file.')
    }
    return attachment
  }

  async read (attachment: repo.Attachment, range: ByteRange | null): Promise<Readable> {
    return await this.deps.store.read(attachment.storageKey, range)
  }

  /** After a message is deleted (its files already unserved): the bytes go at once. */
  async purgeMessage (messageId: number): Promise<void> {
    try {
      const rows = await this.deps.db.selectFrom('attachments').select(['id', 'storage_key'])
        .where('message_id', '=', messageId).where('deleted_at', 'is not', null).execute()
      await this.purge(rows.map(r => ({ id: Number(r.id), storageKey: r.storage_key })))
    } catch (err) {
      // The deletion stands (the files are no longer served); housekeeping removes the bytes.
      this.deps.log.warn({ err, messageId }, 'could not remove the files of a deleted message yet')
    }
  }

  private async purge (rows: Array<{ id: number, storageKey: string }>): Promise<void> {
    // Bytes first: a crash in between leaves a row that the next round finds again.
    for (const r of rows) await this.deps.store.remove(r.storageKey)
    await repo.deleteRows(this.deps.db, rows.map(r => r.id))
  }

  /** Repairs what crashes left: files of deleted messages, interrupted uploads, temporary files. */
  async housekeeping (now = Date.now()): Promise<void> {
    for (;;) {
      const rows = await repo.findDisposable(this.deps.db, now - pendingMs, 100)
      await this.purge(rows)
      if (rows.length < 100) break
    }
    await this.deps.store.sweep(now - pendingMs)
  }
}

/** Reads and drops the rest of an upload, so the connection can answer and be reused. */
async function drain (parts: AsyncIterable<UploadPart>): Promise<void> {
  for await (const part of parts) if (part.kind === 'file') part.stream.resume()
}
