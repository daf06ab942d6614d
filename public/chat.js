/* global document, window, location, history, setInterval, clearInterval, setTimeout, clearTimeout, queueMicrotask */
import { api, ApiError } from './api.js'
import { debounce, errorText, saved, SESSION_ENDED } from './ui.js'
import * as S from './state.js'
import { Outbox } from './outbox.js'
import { Sync } from './sync.js'
import { createTopbar } from './views/topbar.js'
import { createRoomList } from './views/rooms.js'
import { createRoomHead } from './views/room-head.js'
import { createLog } from './views/log.js'
import { createComposer } from './views/composer.js'
import { createMembers } from './views/members.js'
import { createLayout } from './views/layout.js'
import { createAttachments } from './views/attachments.js'
import { createSearch } from './views/search.js'
import { Uploads } from './upload.js'
import { Finder } from './finder.js'
import { Community } from './community.js'
import { createRoomSettingsButton, openRoomSettings } from './views/room-settings.js'
import { openNewRoom, openBrowse, openDirect, openAccount } from './dialogs.js'

// The signed-in screen. It owns the state store (state.js), fetches what the
// state needs (rooms, history, members), applies the events of the shared poll
// (tabs.js) through the reducer, and lets each view render from the state.
// The views never see each other; they call back here.

const TYPING_EVERY_MS = 3000

export class ChatView {
  constructor (root, { me, admin, onAway, onSignedOut, onSignOut }) {
    this.onSignedOut = onSignedOut
    this.store = new S.Store(S.initialState(me))
    this.outbox = new Outbox(this.store, {
      onUnauthenticated: () => this.onSignedOut(SESSION_ENDED),
      onDelivered: () => this.markRead()
    })
    this.sync = new Sync(this.store, { onError: (err, what) => this.handleError(err, what), onNotMember: () => this.refreshRoomsSoon() })
    this.uploads = new Uploads(this.store, { onUnauthenticated: () => this.onSignedOut(SESSION_ENDED), onDelivered: () => this.markRead() })
    this.finder = new Finder(this.store, { onError: (err, what) => this.handleError(err, what), onCaughtUp: () => this.loadLatest() })
    this.destroyed = false
    this.lastTypingSent = 0
    this.refreshRoomsSoon = debounce(() => { this.sync.loadRooms().then(() => this.route()) }, 250)
    this.loadMembersSoon = debounce(() => this.sync.loadMembers(), 300)
    this.markReadSoon = debounce(() => this.markRead(), 200)
    this.build(root, me, onSignOut)
    this.community = new Community(this.store, {
      admin,
      onAway,
      flash: (text) => this.layout.flash(text),
      onError: (err, what) => this.handleError(err, what),
      goTo: (id) => this.goTo(id),
      roomsChanged: () => this.sync.loadRooms()
    })
    this.store.subscribe((state, prev) => this.render(state, prev))
    this.render(this.store.get(), null)

    this.onVisibility = () => {
      this.updateTitle()
      if (document.visibilityState === 'visible') {
        this.markRead()
        this.sync.loadMembers()
      }
    }
    document.addEventListener('visibilitychange', this.onVisibility)
    window.addEventListener('focus', this.onVisibility)
    // Presence has no event of its own: refresh the member list now and then.
    this.membersTimer = setInterval(() => { if (document.visibilityState === 'visible') this.sync.loadMembers() }, 30000)
  }

  destroy () {
    this.destroyed = true
    this.outbox.stop()
    this.uploads.stop()
    this.sync.stop()
    this.community.stop()
    document.removeEventListener('visibilitychange', this.onVisibility)
    window.removeEventListener('focus', this.onVisibility)
    clearInterval(this.membersTimer)
    clearTimeout(this.typingTimer)
    this.layout.destroy()
  }

  get state () {
    return this.store.get()
  }

  build (root, me, onSignOut) {
    const app = this.dialogHost()
    this.search = createSearch({
      onSearch: (q) => this.finder.search(q),
      onMore: () => this.finder.more(),
      onOpen: (ev) => this.openResult(ev),
      onClose: () => this.store.update(S.searchClosed)
    })
    this.topbar = createTopbar({ me, search: this.search.form, onMenu: () => this.layout.toggleSidebar(), onAccount: () => openAccount(app), onAdmin: () => this.community.administer(), onSignOut })
    this.rooms = createRoomList({ onNewRoom: () => openNewRoom(app), onBrowse: () => openBrowse(app), onDirect: () => openDirect(app) })
    const settingsOf = (room) => { if (room) openRoomSettings(room.id, S.roomLabel(this.state, room)) }
    this.settings = createRoomSettingsButton({ onOpen: () => settingsOf(S.currentRoom(this.state)) })
    this.head = createRoomHead({
      onToggleMembers: () => this.layout.toggleMembers(), onLeave: () => this.leaveRoom(), onMute: () => this.community.toggleMute(), onManage: () => this.community.manage(), actions: [this.settings.element]
    })
    this.log = createLog({
      onNearTop: () => this.sync.loadOlder(),
      onNearBottom: () => this.finder.loadNewer(),
      onScroll: () => this.markReadSoon(),
      onEdit: (id, text) => this.sync.edit(id, text),
      onDelete: (id) => this.sync.remove(id),
      onRetry: (clientId) => this.outbox.retry(clientId),
      onDiscard: (clientId) => this.outbox.discard(clientId)
    })
    this.files = createAttachments({
      onFiles: (files) => { if (this.state.roomId !== null) this.uploads.add(this.state.roomId, files) },
      onCancel: (clientId) => this.uploads.cancel(clientId),
      onRetry: (clientId) => this.uploads.retry(clientId)
    })
    this.composer = createComposer({ onSend: (text) => this.send(text), onTyping: () => this.typed(), tools: [this.files.button, this.files.chooser] })
    this.members = createMembers({
      onAdd: async (name) => {
        const added = await this.sync.addMember(name)
        if (added) this.layout.flash(`${name} was added.`)
        return added
      }
    })
    this.layout = createLayout(this)
    root.replaceChildren(this.layout.element)
  }

  /** What the dialogs may do with the page, and nothing more. */
  dialogHost () {
    return {
      me: this.state.me,
      roomName: () => { const room = S.currentRoom(this.state); return room && room.kind !== 'direct' ? room.name : null },
      roomsChanged: () => this.sync.loadRooms(),
      goTo: (roomId) => this.goTo(roomId),
      signedOut: (notice) => this.onSignedOut(notice)
    }
  }

  render (state, prev) {
    for (const view of [this.topbar, this.rooms, this.head, this.settings, this.log, this.composer, this.members, this.files, this.search]) view.render(state)
    if (!prev) return
    this.community.render(state, prev)
    if (state.roomsStale !== prev.roomsStale) this.refreshRoomsSoon()
    if (state.membersStale !== prev.membersStale) this.loadMembersSoon()
    if (state.rooms !== prev.rooms || state.roomId !== prev.roomId || state.muted !== prev.muted) this.updateTitle()
    if (state.typing !== prev.typing) this.expireTypingLater()
    // The open room went away (archived, left in another tab): open another once this render is done.
    if (state.roomId !== null && !state.rooms[state.roomId] && prev.rooms[state.roomId]) queueMicrotask(() => this.route())
  }

  setConnection (status) {
    this.store.update(S.connectionChanged, status)
  }

  handleError (err, what) {
    if (err instanceof ApiError && err.status === 401) this.onSignedOut(SESSION_ENDED)
    else this.layout.flash(`${what}: ${errorText(err)}`)
  }

  updateTitle () {
    const room = S.currentRoom(this.state)
    const base = room ? `${S.roomLabel(this.state, room)} · Chat` : 'Chat'
    const total = document.visibilityState === 'hidden' ? S.totalUnread(this.state) : 0
    const title = total > 0 ? `(${total}) ${base}` : base
    if (document.title !== title) document.title = title
  }

  // ------------------------------------------------------------ rooms

  defaultRoom () {
    const last = saved.get('chat:lastRoom')
    if (last && this.state.rooms[last]) return last
    const sorted = S.sortedRooms(this.state).sort((a, b) => (a.kind === 'direct') - (b.kind === 'direct'))
    return sorted.length ? sorted[0].id : null
  }

  /** Opens the room named in the location hash (or a sensible one). */
  route (reloadHistory = false) {
    const { rooms, roomId } = this.state
    const match = location.hash.match(/^#\/rooms\/(.+)$/)
    const wanted = match ? decodeURIComponent(match[1]) : null
    let id = wanted !== null && rooms[wanted] ? wanted : null
    if (id === null) id = roomId !== null && rooms[roomId] ? roomId : this.defaultRoom()
    if (id !== null && wanted !== id) history.replaceState(null, '', '#/rooms/' + encodeURIComponent(id))
    if (id !== roomId) this.openRoom(id)
    else if (id !== null && reloadHistory) this.loadLatest()
  }

  loadLatest () {
    this.sync.loadLatest().then(() => this.markRead())
  }

  goTo (roomId) {
    location.hash = '#/rooms/' + encodeURIComponent(roomId)
    this.route()
  }

  /** Everything shown is reloaded: at start, after a cursor reset, after a new head. */
  async reload () {
    await this.sync.loadRooms()
    if (!this.destroyed) this.route(true)
  }

  openRoom (id) {
    this.store.update(S.roomOpened, id)
    if (id !== null) saved.set('chat:lastRoom', id)
    // Picked from the phone menu: the list slides away, the composer takes the focus.
    if (this.layout.closeSidebar() && id !== null) this.composer.focus()
    if (id !== null) {
      this.loadLatest()
      this.sync.loadMembers()
    }
  }

  /** A search result was picked: its room opens at it, the searched words marked. */
  openResult (ev) {
    const moved = this.finder.jump(ev)
    this.store.update(S.searchClosed)
    if (!moved) return
    saved.set('chat:lastRoom', ev.roomId)
    location.hash = '#/rooms/' + encodeURIComponent(ev.roomId)
    this.layout.closeSidebar()
    this.sync.loadMembers()
  }

  async leaveRoom () {
    const room = S.currentRoom(this.state)
    if (!room) return
    try {
      await api.leaveRoom(room.id)
      saved.set('chat:lastRoom', '')
      this.layout.flash(`You left ${S.roomLabel(this.state, room)}.`)
      history.replaceState(null, '', '#')
      this.store.update(S.roomLeft, room.id)
      this.route()
    } catch (err) {
      this.handleError(err, 'Could not leave')
    }
  }

  // --------------------------------------------------------- messages

  send (text) {
    if (this.state.roomId === null) return false
    if ([...text].length > 4000) {
      this.layout.flash('A message has at most 4000 characters.')
      return false
    }
    this.lastTypingSent = 0
    // Reading an older stretch (a search result): back to the newest, where the message goes.
    if (this.state.newer) {
      this.store.update(S.backToLatest)
      this.loadLatest()
    }
    this.outbox.send(this.state.roomId, text)
  }

  typed () {
    const now = Date.now()
    if (this.state.roomId === null || now - this.lastTypingSent < TYPING_EVERY_MS) return
    this.lastTypingSent = now
    api.typing(this.state.roomId).catch(() => { /* only a hint */ })
  }

  expireTypingLater () {
    clearTimeout(this.typingTimer)
    const untils = Object.values(this.state.typing).map(t => t.until)
    if (!untils.length) return
    this.typingTimer = setTimeout(() => {
      this.store.update(S.observed, { now: Date.now(), reading: this.state.reading })
      this.store.update(S.typingExpired)
    }, Math.max(0, Math.min(...untils) - this.state.now) + 50)
  }

  /** Tells the server what the reader has seen, once the newest message is on screen. */
  markRead () {
    const roomId = this.state.roomId
    if (roomId === null || document.visibilityState !== 'visible' || !this.log.atBottom()) return
    const latest = S.unsentRead(this.state)
    this.store.update(S.readMarked, roomId, latest)
    if (latest === null) return
    api.read(roomId, latest).catch((err) => {
      if (err instanceof ApiError && err.status === 401) this.onSignedOut(SESSION_ENDED)
      else this.store.update(S.readFailed, roomId, latest)
    })
  }

  // ----------------------------------------------------------- events

  /** Events from the shared poll, oldest first, possibly seen before. */
  applyEvents (events, isLeader) {
    if (this.destroyed) return
    const reading = this.log.atBottom() && document.visibilityState === 'visible'
    this.store.update(S.observed, { now: Date.now(), reading })
    let inView = false
    for (const ev of events) {
      const before = this.state
      this.store.update(S.reduce, ev)
      if (ev && ev.type === 'message' && ev.roomId === before.roomId) inView = true
      if (isLeader) this.community.notify(before, ev)
    }
    if (inView) this.markRead()
  }
}
