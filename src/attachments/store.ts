import { createWriteStream } from 'node:fs'
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Db } from '../db/connect.js'
import { AppError } from '../http/errors.js'
import { headBytes } from './image-info.js'

/** Inclusive byte positions, as HTTP ranges give them. */
export interface ByteRange { start: number, end: number }

export interface StoredBytes { size: number, head: Buffer }

/**
 * Where attachment bytes live. A write keeps all of the bytes or none of them:
 * a file larger than `maxBytes` is refused while it streams (413), and a crash
 * half-way leaves nothing under `key`.
 */
export interface AttachmentStore {
  write: (key: string, source: Readable, maxBytes: number) => Promise<StoredBytes>
  read: (key: string, range: ByteRange | null) => Promise<Readable>
  remove: (key: string) => Promise<void>
  /** Removes what interrupted writes left behind before `before` (a time in ms). */
  sweep: (before: number) => Promise<void>
}

export const tooLarge = (): AppError => new AppError('too_large', 'The file is larger than this server accepts.')

/** Counts the bytes going through and keeps the first ones (for sniffing); fails past `maxBytes`. */
export class Meter extends Transform {
  size = 0
  private readonly headParts: Buffer[] = []
  private headSize = 0

  constructor (private readonly maxBytes: number) { super() }

  get head (): Buffer { return Buffer.concat(this.headParts) }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length
    if (this.size > this.maxBytes) { callback(tooLarge()); return }
    if (this.headSize < headBytes) {
      const part = chunk.subarray(0, headBytes - this.headSize)
      this.headParts.push(Buffer.from(part))
      this.headSize += part.length
    }
    callback(null, chunk)
  }
}

/** Files in a folder (shared by every node that serves them), two hex digits of fan-out. */
export class FolderStore implements AttachmentStore {
  constructor (private readonly dir: string) {}

  private path (key: string): string { return join(this.dir, key.slice(0, 2), key) }

  async write (key: string, source: Readable, maxBytes: number): Promise<StoredBytes> {
    const final = this.path(key)
    await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true })
    // Written under a temporary name and renamed when complete and flushed to disk.
    const temp = `${final}.tmp-${randomBytes(6).toString('hex')}`
    const meter = new Meter(maxBytes)
    try {
      await pipeline(source, meter, createWriteStream(temp, { flags: 'wx', mode: 0o600, flush: true }))
      await rename(temp, final)
    } catch (err) {
      await rm(temp, { force: true })
      throw err
    }
    return { size: meter.size, head: meter.head }
  }

  async read (key: string, range: ByteRange | null): Promise<Readable> {
    let file
    try {
      file = await open(this.path(key), 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('not_found', 'No such file.')
      throw err
    }
    return file.createReadStream(range === null ? {} : { start: range.start, end: range.end })
  }

  async remove (key: string): Promise<void> {
    await rm(this.path(key), { force: true })
  }

  async sweep (before: number): Promise<void> {
    let shards: string[]
    try {
      shards = await readdir(this.dir)
    } catch {
      return
    }
    for (const shard of shards.filter(s => /^[0-9a-f]{2}$/.test(s))) {
      for (const name of await readdir(join(this.dir, shard)).catch(() => [] as string[])) {
        if (!name.includes('.tmp-')) continue
        const path = join(this.dir, shard, name)
        const info = await stat(path).catch(() => null)
        if (info !== null && info.mtimeMs < before) await rm(path, { force: true })
      }
    }
  }
}

/** Bytes in the database, in rows of this size: one at a time in memory, well under max_allowed_packet. */
export const chunkBytes = 256 * 1024

/**
 * Rows in attachment_chunks, for nodes that share no disk. Chunks are written
 * outside any transaction; until its attachment row points at a message, an
 * upload is pending and housekeeping removes what a crash left of it.
 */
export class DatabaseStore implements AttachmentStore {
  constructor (private readonly db: Db) {}

  async write (key: string, source: Readable, maxBytes: number): Promise<StoredBytes> {
    const meter = new Meter(maxBytes)
    let seq = 0
    let parts: Buffer[] = []
    let pending = 0
    const flush = async (final: boolean): Promise<void> => {
      let all = Buffer.concat(parts)
      const minimum = final ? 1 : chunkBytes
      while (all.length >= minimum) {
        const data = all.subarray(0, chunkBytes)
        await this.db.insertInto('attachment_chunks').values({ storage_key: key, seq: seq++, data: Buffer.from(data) }).execute()
        all = all.subarray(data.length)
      }
      parts = all.length > 0 ? [all] : []
      pending = all.length
    }
    try {
      await pipeline(source, meter, async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          parts.push(chunk)
          pending += chunk.length
          if (pending >= chunkBytes) await flush(false)
        }
        await flush(true)
      })
    } catch (err) {
      await this.remove(key)
      throw err
    }
    return { size: meter.size, head: meter.head }
  }

  async read (key: string, range: ByteRange | null): Promise<Readable> {
    const db = this.db
    const first = range === null ? 0 : Math.floor(range.start / chunkBytes)
    const last = range === null ? Number.MAX_SAFE_INTEGER : Math.floor(range.end / chunkBytes)
    async function * chunks (): AsyncGenerator<Buffer> {
      for (let seq = first; seq <= last; seq++) {
        const row = await db.selectFrom('attachment_chunks').select('data').where('storage_key', '=', key).where('seq', '=', seq).executeTakeFirst()
        if (row === undefined) return
        let data = Buffer.from(row.data)
        if (range !== null) {
          const offset = seq * chunkBytes
          data = data.subarray(Math.max(0, range.start - offset), range.end - offset + 1)
        }
        yield data
      }
    }
    return Readable.from(chunks(), { objectMode: false })
  }

  async remove (key: string): Promise<void> {
    await this.db.deleteFrom('attachment_chunks').where('storage_key', '=', key).execute()
  }

  async sweep (): Promise<void> {
    // Chunks belong to an attachment row from before the first byte: housekeeping removes both together.
  }
}
