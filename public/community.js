/* global window */
import { api } from './api.js'
import { saved } from './ui.js'
import * as S from './state.js'
import { showNotification } from './notify.js'
import { watchIdle } from './idle.js'
import { openModeration } from './views/moderation.js'
import { openAdmin } from './views/admin.js'

// What running a community adds to the signed-in screen, kept out of chat.js:
// whether we are an administrator, the rooms muted in this browser, away after
// no input in any tab, desktop notifications (leader tab only), the notices a
// kick, ban or archive leaves, and the moderation and administration dialogs.

export class Community {
  /**
   * @param {import('./state.js').Store} store
   * @param {object} o
   * @param {boolean} [o.admin] what api/me said; undefined (just signed in): asked here
   * @param {(away: boolean) => void} [o.onAway] tells the poll (presence for the other members)
   * @param {(text: string) => void} o.flash
   * @param {(err: Error, what: string) => void} o.onError
   * @param {(roomId: string) => void} o.goTo
   * @param {() => Promise<void>} o.roomsChanged
   */
  constructor (store, { admin, onAway = () => {}, flash, onError, goTo, roomsChanged }) {
    this.store = store
    this.flash = flash
    this.onError = onError
    this.goTo = goTo
    this.roomsChanged = roomsChanged
    this.mutedKey = 'chat:muted:' + store.get().me.id
    this.reloadManage = () => {}
    this.onStorage = (e) => { if (e.key === this.mutedKey) this.loadMuted() }
    window.addEventListener('storage', this.onStorage)
    this.loadMuted()
    this.stopIdle = watchIdle((away) => {
      this.store.update(S.awayChanged, away)
      onAway(away)
    })
    if (typeof admin === 'boolean') this.store.update(S.adminKnown, admin)
    else this.askAdmin()
  }

  stop () {
    window.removeEventListener('storage', this.onStorage)
    this.stopIdle()
  }

  /** Sign-in and registration answer `{user}` only; api/me also says whether we administer the site. */
  async askAdmin () {
    try {
      const { admin } = await api.me()
      this.store.update(S.adminKnown, admin === true)
    } catch { /* not shown: the page only lacks the Administration button */ }
  }

  loadMuted () {
    let ids = []
    try { ids = JSON.parse(saved.get(this.mutedKey) || '[]') } catch { /* a damaged entry: nothing muted */ }
    const muted = {}
    for (const id of Array.isArray(ids) ? ids : []) muted[String(id)] = true
    this.store.update(S.mutedLoaded, muted)
  }

  toggleMute () {
    const { roomId, muted } = this.store.get()
    if (roomId === null) return
    const next = { ...muted }
    if (next[roomId]) delete next[roomId]
    else next[roomId] = true
    saved.set(this.mutedKey, JSON.stringify(Object.keys(next)))
    this.store.update(S.mutedLoaded, next)
  }

  /** Called by the leader tab with the state from before each event. */
  notify (before, ev) {
    const note = S.notificationFor(before, ev)
    if (note) showNotification(note, () => this.goTo(note.roomId))
  }

  render (state, prev) {
    if (state.notice && (!prev || state.notice !== prev.notice)) this.flash(state.notice.text)
    if (prev && (state.bansStale !== prev.bansStale || state.membersStale !== prev.membersStale)) this.reloadManage()
  }

  manage () {
    const state = this.store.get()
    const room = S.currentRoom(state)
    if (!room || !S.mayAct(state, 'moderator')) return
    this.reloadManage = openModeration({
      room,
      me: state.me,
      owner: S.mayAct(state, 'owner'),
      label: S.roomLabel(state, room),
      flash: this.flash,
      roomsChanged: this.roomsChanged
    })
  }

  administer () {
    if (this.store.get().admin) openAdmin({ me: this.store.get().me, flash: this.flash })
  }
}
