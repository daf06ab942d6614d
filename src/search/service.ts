import type { Db, Dialect } from '../db/connect.js'
import type { AuthUser } from '../auth/service.js'
import { AppError } from '../http/errors.js'
import { messageEventsByIds, type HistoryPage } from '../messages/repository.js'
import type { RoomAccess } from '../rooms/access.js'
import { roomIdsOf } from '../rooms/repository.js'
import { queryWords } from './query.js'
import { searchMessageIds } from './repository.js'

const invalidFields = (fields: Record<string, string>): AppError => new AppError('invalid', 'The request is not valid.', { fields })

export interface SearchServiceDeps {
  db: Db
  dialect: Dialect
  access: RoomAccess
  /** How many of the newest messages a query without an indexable word reads. */
  scanLimit: number
}

export interface SearchRequest { q: string, room: string | null, before: number | null, limit: number }

/** Finds messages by their current text, only in rooms the caller belongs to at the moment of asking. */
export class SearchService {
  constructor (private readonly deps: SearchServiceDeps) {}

  async search (user: AuthUser, request: SearchRequest): Promise<HistoryPage> {
    const words = queryWords(request.q)
    if (words.length === 0) throw invalidFields({ q: 'must contain a word' })
    // Membership is read now, not cached: someone who left a room finds nothing of it.
    const roomIds = request.room === null
      ? await roomIdsOf(this.deps.db, user.id)
      : [(await this.deps.access.asMember(request.room, user.id)).id]
    const found = await searchMessageIds(this.deps.db, this.deps.dialect, {
      roomIds, words, before: request.before, limit: request.limit + 1, scanLimit: this.deps.scanLimit
    })
    const events = await messageEventsByIds(this.deps.db, found.slice(0, request.limit))
    return { events, hasMore: found.length > request.limit }
  }
}
