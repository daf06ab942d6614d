import { api, ApiError } from './api.js'
import * as S from './state.js'

// What the state needs from the server besides the poll: the room list, the
// open room's history and members, and the answers to our own edits and
// deletions. Each answer goes into the store; nothing here touches the page.

const PAGE = 50

export class Sync {
  /**
   * @param {import('./state.js').Store} store
   * @param {object} o
   * @param {(err: Error, what: string) => void} o.onError
   * @param {() => void} o.onNotMember the open room is no longer ours: the room list is stale
   */
  constructor (store, { onError, onNotMember }) {
    this.store = store
    this.onError = onError
    this.onNotMember = onNotMember
    this.destroyed = false
    this.lookedUp = new Set() // direct rooms whose other member was asked for
  }

  stop () {
    this.destroyed = true
  }

  async loadRooms () {
    try {
      const { rooms } = await api.rooms()
      if (this.destroyed) return
      this.store.update(S.roomsLoaded, rooms)
      // The contract gives `name` (or null); this server also sends `peer`. Else ask the member list.
      for (const room of rooms) {
        if (room.kind === 'direct' && !room.name && !room.peer && !this.lookedUp.has(room.id)) this.lookUpDirectName(room.id)
      }
    } catch (err) {
      this.onError(err, 'Could not load your rooms')
    }
  }

  async lookUpDirectName (roomId) {
    this.lookedUp.add(roomId)
    try {
      const { members } = await api.members(roomId)
      const other = members.find(m => m.id !== this.store.get().me.id) || members[0]
      if (other && !this.destroyed) this.store.update(S.directNameFound, roomId, other.username)
    } catch {
      this.lookedUp.delete(roomId)
    }
  }

  async loadMembers () {
    const roomId = this.store.get().roomId
    if (roomId === null || this.destroyed) return
    try {
      const { members } = await api.members(roomId)
      if (!this.destroyed) this.store.update(S.membersLoaded, roomId, members)
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.onError(err, '')
      else if (err instanceof ApiError && err.code === 'not_member') this.onNotMember()
    }
  }

  async addMember (name) {
    try {
      await api.addMember(this.store.get().roomId, name)
      this.loadMembers()
      return true
    } catch (err) {
      this.onError(err, `Could not add ${name}`)
      return false
    }
  }

  async loadLatest () {
    const roomId = this.store.get().roomId
    try {
      const { events, hasMore } = await api.history(roomId, null, PAGE)
      if (this.destroyed) return
      this.store.update(S.latestLoaded, roomId, events, hasMore)
    } catch (err) {
      if (roomId !== this.store.get().roomId) return
      if (err instanceof ApiError && (err.code === 'not_member' || err.status === 404)) {
        this.onNotMember()
        return
      }
      this.store.update(S.historyFailed, roomId)
      this.onError(err, 'Could not load messages')
    }
  }

  async loadOlder () {
    const { roomId, messages, hasMore } = this.store.get()
    if (!hasMore || roomId === null || !messages.length) return
    try {
      const page = await api.history(roomId, messages[0].id, PAGE)
      this.store.update(S.olderLoaded, roomId, page.events, page.hasMore)
    } catch (err) {
      this.onError(err, 'Could not load older messages')
    }
  }

  async edit (id, text) {
    const roomId = this.store.get().roomId
    try {
      const res = await api.edit(roomId, id, text)
      const ev = res && res.event
      this.store.update(S.messageEdited, roomId, id, ev ? ev.text : text, (ev && ev.createdAt) || new Date().toISOString())
    } catch (err) {
      this.onError(err, 'Could not edit')
    }
  }

  async remove (id) {
    const roomId = this.store.get().roomId
    try {
      await api.remove(roomId, id)
      this.store.update(S.messageRemoved, roomId, id)
    } catch (err) {
      this.onError(err, 'Could not delete')
    }
  }
}
