import { api, ApiError } from './api.js'
import * as S from './state.js'

// Search and the jump to a result: asks the server, puts the answers in the
// store, and loads the history around a message jumped to, then forward from
// it until the window reaches the newest messages. Nothing here touches the page.

const PAGE = 25

export class Finder {
  /**
   * @param {import('./state.js').Store} store
   * @param {object} o
   * @param {(err: Error, what: string) => void} o.onError
   * @param {() => void} o.onCaughtUp the window reached the newest page: load it, for what the poll skipped meanwhile
   */
  constructor (store, { onError, onCaughtUp }) {
    this.store = store
    this.onError = onError
    this.onCaughtUp = onCaughtUp
  }

  async search (q) {
    this.store.update(S.searchStarted, q)
    try {
      const { events, hasMore } = await api.search(q)
      this.store.update(S.searchLoaded, q, events, hasMore)
    } catch (err) {
      this.store.update(S.searchFailed, q)
      if (err instanceof ApiError && err.status === 401) this.onError(err, '')
    }
  }

  async more () {
    const search = this.store.get().search
    if (!search || !search.hasMore || !search.events.length) return
    try {
      const page = await api.search(search.q, search.events[search.events.length - 1].id)
      this.store.update(S.searchLoaded, search.q, page.events, page.hasMore, true)
    } catch (err) {
      this.onError(err, 'Could not load more results')
    }
  }

  /** Opens `ev` (a search result) in its room with the searched words marked; true when its room changed. */
  jump (ev) {
    const state = this.store.get()
    const words = state.search ? state.search.words : []
    this.store.update(S.jumpStarted, ev.roomId, ev.id, words)
    if (this.store.get().history === 'loading') this.loadAround(ev.roomId, ev.id)
    return state.roomId !== ev.roomId
  }

  async loadAround (roomId, id) {
    try {
      // Ids are digit strings, possibly beyond 2^53: BigInt steps past the message so `before` includes it.
      const through = String(BigInt(id) + 1n)
      const [older, newer] = await Promise.all([api.history(roomId, through, PAGE), api.history(roomId, null, PAGE, id)])
      this.store.update(S.aroundLoaded, roomId, older, newer)
      if (!newer.hasMore) this.onCaughtUp()
    } catch (err) {
      this.store.update(S.historyFailed, roomId)
      this.onError(err, 'Could not load the message')
    }
  }

  async loadNewer () {
    const { roomId, messages, newer } = this.store.get()
    if (!newer || roomId === null || !messages.length) return
    try {
      const page = await api.history(roomId, null, PAGE, messages[messages.length - 1].id)
      this.store.update(S.newerLoaded, roomId, page.events, page.hasMore)
      if (!this.store.get().newer) this.onCaughtUp()
    } catch (err) {
      this.onError(err, 'Could not load newer messages')
    }
  }
}
