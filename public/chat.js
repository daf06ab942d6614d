/* global document, window, location, history, localStorage, Notification, CSS, setInterval, clearInterval, setTimeout, clearTimeout */
import { api, ApiError } from './api.js'
import { backoffDelay } from './poll.js'
import { h, linkify, compareIds, maxId, randomId, timeEl, sleep, debounce, displayName, errorText } from './ui.js'
import { openNewRoom, openBrowse, openDirect, openAccount } from './dialogs.js'

// The signed-in screen: rooms, the open room's messages, the composer and the
// member list. It holds the state of what is shown and applies the events the
// shared poll delivers (tabs.js), deduplicating by event id and, for this
// tab's own optimistic messages, by clientId.

const PAGE = 50
const NEAR_BOTTOM_PX = 80
const TYPING_EVERY_MS = 3000
const TYPING_SHOWN_MS = 6000
const SEEN_MAX = 5000

export class ChatView {
  constructor (root, { me, hub, onSignedOut, onSignOut }) {
    this.me = me
    this.hub = hub
    this.onSignedOut = onSignedOut
    this.onSignOut = onSignOut
    this.rooms = new Map() // id → {id, name, kind, visibility, unread, lastEventId}
    this.directNames = new Map() // direct room id → the other person's username
    this.roomId = null
    this.viewGen = 0 // bumps when another room opens: late answers for the old one are dropped
    this.msgs = new Map() // event id → message event, for the open room
    this.els = new Map() // event id → <li>
    this.outbox = new Map() // clientId → pending message {clientId, roomId, text, state, el}
    this.hasMore = false
    this.loadingOlder = false
    this.typing = new Map() // user id → {name, until}
    this.readSent = new Map() // room id → newest event id sent as read
    this.lastTypingSent = 0
    this.seen = new Set()
    this.members = []
    this.destroyed = false

    this.refreshRoomsSoon = debounce(() => { this.loadRooms().then(() => this.route()) }, 250)
    this.loadMembersSoon = debounce(() => this.loadMembers(), 300)
    this.markReadSoon = debounce(() => this.markRead(), 200)

    this.onVisibility = () => {
      this.updateTitle()
      if (document.visibilityState === 'visible') {
        this.markRead()
        if (this.roomId) this.loadMembers()
      }
    }
    document.addEventListener('visibilitychange', this.onVisibility)
    window.addEventListener('focus', this.onVisibility)
    // Presence has no event of its own: refresh the member list now and then.
    this.membersTimer = setInterval(() => {
      if (this.roomId && document.visibilityState === 'visible') this.loadMembers()
    }, 30000)

    this.build(root)
    this.setConnection(null)
  }

  destroy () {
    this.destroyed = true
    document.removeEventListener('visibilitychange', this.onVisibility)
    window.removeEventListener('focus', this.onVisibility)
    clearInterval(this.membersTimer)
    this.wide.removeEventListener('change', this.onWidth)
    clearTimeout(this.typingTimer)
  }

  // ---------------------------------------------------------------- layout

  build (root) {
    this.conn = h('div', { class: 'conn', role: 'status' })
    this.menuButton = h('button', {
      type: 'button',
      class: 'menu-toggle',
      'aria-controls': 'sidebar',
      'aria-expanded': 'false',
      onclick: () => this.toggleSidebar()
    }, 'Menu')
    const topbar = h('header', { class: 'topbar' },
      this.menuButton,
      h('h1', {}, 'Chat'),
      this.conn,
      h('span', { class: 'whoami' }, displayName(this.me)),
      h('button', { type: 'button', onclick: () => openAccount(this) }, 'Account'),
      h('button', { type: 'button', onclick: () => this.onSignOut() }, 'Sign out'))

    this.channelList = h('ul', { class: 'room-list', 'aria-labelledby': 'channels-heading' })
    this.directList = h('ul', { class: 'room-list', 'aria-labelledby': 'direct-heading' })
    this.sidebar = h('nav', { id: 'sidebar', class: 'sidebar', 'aria-label': 'Rooms' },
      h('div', { class: 'section-head' },
        h('h2', { id: 'channels-heading' }, 'Channels'),
        h('button', { type: 'button', class: 'small', onclick: () => openNewRoom(this) }, 'New room')),
      this.channelList,
      h('button', { type: 'button', class: 'link-button', onclick: () => openBrowse(this) }, 'Browse channels'),
      h('div', { class: 'section-head' },
        h('h2', { id: 'direct-heading' }, 'Direct'),
        h('button', { type: 'button', class: 'small', onclick: () => openDirect(this) }, 'New direct chat')),
      this.directList)

    this.roomTitle = h('h2', { id: 'room-title', class: 'room-title' }, '')
    this.membersButton = h('button', {
      type: 'button',
      'aria-controls': 'members',
      'aria-expanded': 'false',
      onclick: () => this.toggleMembers()
    }, 'Members')
    this.leaveButton = h('button', { type: 'button', onclick: () => this.leaveRoom() }, 'Leave')
    this.olderButton = h('button', { type: 'button', class: 'older link-button', hidden: true, onclick: () => this.loadOlder() }, 'Load older')
    this.list = h('ol', { class: 'messages' })
    this.empty = h('p', { class: 'empty' }, '')
    this.log = h('div', { class: 'log', role: 'log', 'aria-labelledby': 'room-title', tabindex: '0' },
      this.olderButton, this.empty, this.list)
    this.log.addEventListener('scroll', () => {
      if (this.log.scrollTop < 80) this.loadOlder()
      this.markReadSoon()
    }, { passive: true })
    this.typingLine = h('p', { class: 'typing' })

    this.input = h('textarea', { id: 'composer-text', rows: '1', maxlength: '8000', autocomplete: 'off', enterkeyhint: 'send' })
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault()
        this.sendFromComposer()
      }
    })
    this.input.addEventListener('input', () => this.typed())
    this.sendButton = h('button', { type: 'submit', class: 'primary' }, 'Send')
    this.composer = h('form', { class: 'composer' },
      h('label', { for: 'composer-text', class: 'sr-only' }, 'Message'),
      this.input,
      this.sendButton)
    this.composer.addEventListener('submit', (e) => { e.preventDefault(); this.sendFromComposer() })

    this.roomPane = h('main', { class: 'room' },
      h('header', { class: 'room-head' }, this.roomTitle, h('div', { class: 'room-actions' }, this.membersButton, this.leaveButton)),
      this.log,
      this.typingLine,
      this.composer)

    this.memberList = h('ul', { class: 'member-list' })
    this.membersTitle = h('h2', { id: 'members-title' }, 'Members')
    this.addMemberForm = this.buildAddMember()
    this.membersPane = h('aside', { id: 'members', class: 'members', 'aria-labelledby': 'members-title' },
      this.membersTitle, this.memberList, this.addMemberForm)

    // On a phone the room list is an overlay: a tap beside it closes it.
    this.roomPane.addEventListener('click', () => {
      if (this.element.classList.contains('show-rooms')) this.toggleSidebar(false)
    })
    this.toasts = h('div', { class: 'toasts', 'aria-live': 'polite' })
    this.element = h('div', { class: 'chat' },
      topbar,
      h('div', { class: 'panes' }, this.sidebar, this.roomPane, this.membersPane),
      this.toasts)
    this.element.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.element.classList.contains('show-rooms')) {
        this.toggleSidebar(false)
        this.menuButton.focus()
      }
    })
    // Members sit beside the log on wide screens; on narrow ones they are an overlay, closed by default.
    this.wide = window.matchMedia('(min-width: 1100px)')
    this.onWidth = () => {
      this.toggleMembers(this.wide.matches)
      if (this.wide.matches) this.toggleSidebar(false)
    }
    this.wide.addEventListener('change', this.onWidth)
    this.toggleMembers(this.wide.matches)
    root.replaceChildren(this.element)
    this.renderRoomHead()
  }

  buildAddMember () {
    const input = h('input', { id: 'add-member-name', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true })
    const form = h('form', { class: 'add-member' },
      h('label', { for: 'add-member-name' }, 'Invite by name'),
      h('div', { class: 'row' }, input, h('button', { type: 'submit' }, 'Add')))
    form.addEventListener('submit', async (e) => {
      e.preventDefault()
      const name = input.value.trim()
      if (!name || !this.roomId) return
      try {
        await api.addMember(this.roomId, name)
        input.value = ''
        this.flash(`${name} was added.`)
        this.loadMembers()
      } catch (err) {
        this.handleError(err, `Could not add ${name}`)
      }
    })
    return form
  }

  toggleSidebar (open = !this.element.classList.contains('show-rooms')) {
    this.element.classList.toggle('show-rooms', open)
    this.menuButton.setAttribute('aria-expanded', String(open))
    if (open) {
      const current = this.sidebar.querySelector('[aria-current="page"]') || this.sidebar.querySelector('a, button')
      if (current) current.focus()
    }
  }

  toggleMembers (open = !this.element.classList.contains('show-members')) {
    this.element.classList.toggle('show-members', open)
    this.membersButton.setAttribute('aria-expanded', String(open))
  }

  setConnection (status) {
    const text = status === 'connected'
      ? 'Connected'
      : status === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'
    this.conn.dataset.state = status || 'connecting'
    if (this.conn.textContent !== text) this.conn.textContent = text
  }

  flash (text) {
    const note = h('p', { class: 'toast' }, text)
    this.toasts.append(note)
    setTimeout(() => note.remove(), 6000)
  }

  handleError (err, what) {
    if (err instanceof ApiError && err.status === 401) {
      this.onSignedOut('Your session has ended. Please sign in again.')
      return
    }
    this.flash(`${what}: ${errorText(err)}`)
  }

  // ----------------------------------------------------------------- rooms

  roomLabel (room) {
    if (!room) return ''
    if (room.kind === 'direct') {
      const other = room.name || (room.peer && room.peer.username) || this.directNames.get(room.id)
      return other ? '@' + other : 'Direct chat'
    }
    return '#' + room.name
  }

  async loadRooms () {
    try {
      const { rooms } = await api.rooms()
      if (this.destroyed) return
      const next = new Map()
      for (const r of rooms) next.set(r.id, { ...r, unread: r.unread || 0 })
      this.rooms = next
      this.renderRooms()
      this.renderRoomHead()
      this.updateTitle()
      for (const room of next.values()) {
        // The contract gives `name` (or null); this server also sends `peer`. Else ask the member list.
        if (room.kind === 'direct' && !room.name && !room.peer && !this.directNames.has(room.id)) this.lookUpDirectName(room.id)
      }
    } catch (err) {
      this.handleError(err, 'Could not load your rooms')
    }
  }

  async lookUpDirectName (roomId) {
    this.directNames.set(roomId, null) // asked once
    try {
      const { members } = await api.members(roomId)
      const other = members.find(m => m.id !== this.me.id) || members[0]
      if (other && !this.destroyed) {
        this.directNames.set(roomId, other.username)
        this.renderRooms()
        if (roomId === this.roomId) this.renderRoomHead()
      }
    } catch {
      this.directNames.delete(roomId)
    }
  }

  renderRooms () {
    const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.roomId : undefined
    const sorted = [...this.rooms.values()].sort((a, b) => this.roomLabel(a).localeCompare(this.roomLabel(b)))
    const item = (room) => {
      const link = h('a', {
        href: '#/rooms/' + encodeURIComponent(room.id),
        class: 'room-link' + (room.unread ? ' has-unread' : ''),
        dataset: { roomId: room.id },
        'aria-current': room.id === this.roomId ? 'page' : null
      },
      h('span', { class: 'room-name' }, this.roomLabel(room)),
      room.visibility === 'private' && room.kind !== 'direct' ? h('span', { class: 'tag' }, 'private') : null,
      room.unread ? h('span', { class: 'badge' }, String(room.unread), h('span', { class: 'sr-only' }, ' unread')) : null)
      return h('li', {}, link)
    }
    this.channelList.replaceChildren(...sorted.filter(r => r.kind !== 'direct').map(item))
    this.directList.replaceChildren(...sorted.filter(r => r.kind === 'direct').map(item))
    if (!this.channelList.children.length) this.channelList.append(h('li', { class: 'muted' }, 'No channels yet'))
    if (focusedId) {
      const again = this.sidebar.querySelector(`[data-room-id="${CSS.escape(focusedId)}"]`)
      if (again) again.focus()
    }
  }

  defaultRoom () {
    const last = safeGet('chat:lastRoom')
    if (last && this.rooms.has(last)) return last
    const sorted = [...this.rooms.values()].sort((a, b) =>
      (a.kind === 'direct') - (b.kind === 'direct') || this.roomLabel(a).localeCompare(this.roomLabel(b)))
    return sorted.length ? sorted[0].id : null
  }

  /** Opens the room named in the location hash (or a sensible one). */
  route (reloadHistory = false) {
    const match = location.hash.match(/^#\/rooms\/(.+)$/)
    const wanted = match ? decodeURIComponent(match[1]) : null
    let id = wanted !== null && this.rooms.has(wanted) ? wanted : null
    if (id === null) id = this.roomId !== null && this.rooms.has(this.roomId) ? this.roomId : this.defaultRoom()
    if (id !== null && wanted !== id) history.replaceState(null, '', '#/rooms/' + encodeURIComponent(id))
    if (id !== this.roomId) {
      this.openRoom(id)
    } else if (id === null) {
      this.renderRoomHead()
      this.renderEmpty()
    } else if (reloadHistory) {
      this.loadLatest()
    }
  }

  goTo (roomId) {
    location.hash = '#/rooms/' + encodeURIComponent(roomId)
    this.route()
  }

  /** Everything shown is reloaded: at start, after a cursor reset, after a new head. */
  async reload () {
    await this.loadRooms()
    if (!this.destroyed) this.route(true)
  }

  openRoom (id) {
    this.roomId = id
    this.viewGen++
    this.msgs.clear()
    this.els.clear()
    this.list.replaceChildren()
    this.hasMore = false
    this.typing.clear()
    this.members = []
    this.memberList.replaceChildren()
    for (const p of this.outbox.values()) {
      p.el = null
      if (p.roomId === id) {
        p.el = this.messageEl(this.pendingEvent(p), p)
        this.list.append(p.el)
      }
    }
    if (id !== null) safeSet('chat:lastRoom', id)
    this.renderRoomHead()
    this.renderRooms()
    this.renderTyping()
    this.renderOlderButton()
    this.updateTitle()
    if (this.element.classList.contains('show-rooms')) {
      // Picked from the phone menu: the list slides away, the composer takes the focus.
      this.toggleSidebar(false)
      if (id !== null) this.input.focus()
    }
    if (id !== null) {
      this.empty.textContent = 'Loading…'
      this.loadLatest()
      this.loadMembers()
    } else {
      this.renderEmpty()
    }
  }

  renderRoomHead () {
    const room = this.rooms.get(this.roomId)
    this.roomTitle.textContent = room ? this.roomLabel(room) : 'No room open'
    this.leaveButton.hidden = !room || room.kind === 'direct'
    this.membersButton.hidden = !room
    this.addMemberForm.hidden = !room || room.kind === 'direct'
    this.input.disabled = !room
    this.sendButton.disabled = !room
  }

  renderEmpty () {
    if (this.roomId === null) {
      this.empty.textContent = this.rooms.size
        ? 'Pick a room.'
        : 'You are in no room yet: create one with “New room” or use “Browse channels”.'
      this.empty.hidden = false
    } else {
      this.empty.textContent = 'No messages yet. Say hello!'
      this.empty.hidden = this.list.children.length > 0
    }
  }

  renderOlderButton () {
    this.olderButton.hidden = !this.hasMore
  }

  updateTitle () {
    const room = this.rooms.get(this.roomId)
    const base = room ? `${this.roomLabel(room)} · Chat` : 'Chat'
    let title = base
    if (document.visibilityState === 'hidden') {
      let total = 0
      for (const r of this.rooms.values()) total += r.unread || 0
      if (total > 0) title = `(${total}) ${base}`
    }
    if (document.title !== title) document.title = title
  }

  async leaveRoom () {
    const room = this.rooms.get(this.roomId)
    if (!room) return
    try {
      await api.leaveRoom(room.id)
      this.rooms.delete(room.id)
      safeSet('chat:lastRoom', '')
      this.flash(`You left ${this.roomLabel(room)}.`)
      history.replaceState(null, '', '#')
      this.route()
      this.renderRooms()
    } catch (err) {
      this.handleError(err, 'Could not leave')
    }
  }

  // -------------------------------------------------------------- messages

  atBottom () {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < NEAR_BOTTOM_PX
  }

  scrollToBottom () {
    this.log.scrollTop = this.log.scrollHeight
  }

  async loadLatest () {
    const gen = this.viewGen
    const roomId = this.roomId
    try {
      const { events, hasMore } = await api.history(roomId, null, PAGE)
      if (gen !== this.viewGen || this.destroyed) return
      const stick = this.atBottom() || this.msgs.size === 0
      if (events.length) {
        // Messages inside the page's range that the page lacks were deleted while we were away.
        const lo = events[0].id
        const hi = events[events.length - 1].id
        const ids = new Set(events.map(e => e.id))
        for (const id of [...this.msgs.keys()]) {
          if (compareIds(id, lo) >= 0 && compareIds(id, hi) <= 0 && !ids.has(id)) this.removeMessage(id)
        }
        const olderKept = [...this.msgs.keys()].some(id => compareIds(id, lo) < 0)
        if (!olderKept) this.hasMore = Boolean(hasMore)
      } else {
        this.hasMore = false
      }
      for (const ev of events) this.upsertMessage(ev)
      this.renderOlderButton()
      this.renderEmpty()
      if (stick) this.scrollToBottom()
      this.markRead()
    } catch (err) {
      if (gen !== this.viewGen) return
      if (err instanceof ApiError && (err.code === 'not_member' || err.status === 404)) {
        this.refreshRoomsSoon()
        return
      }
      this.empty.textContent = 'Could not load messages.'
      this.handleError(err, 'Could not load messages')
    }
  }

  async loadOlder () {
    if (this.loadingOlder || !this.hasMore || this.roomId === null) return
    let oldest = null
    for (const id of this.msgs.keys()) if (oldest === null || compareIds(id, oldest) < 0) oldest = id
    if (oldest === null) return
    const gen = this.viewGen
    this.loadingOlder = true
    this.olderButton.textContent = 'Loading…'
    try {
      const { events, hasMore } = await api.history(this.roomId, oldest, PAGE)
      if (gen !== this.viewGen) return
      const height = this.log.scrollHeight
      const top = this.log.scrollTop
      for (const ev of events) this.upsertMessage(ev)
      this.hasMore = Boolean(hasMore) && events.length > 0
      // Keep what the reader was looking at in place.
      this.log.scrollTop = top + (this.log.scrollHeight - height)
    } catch (err) {
      this.handleError(err, 'Could not load older messages')
    } finally {
      this.loadingOlder = false
      this.olderButton.textContent = 'Load older'
      this.renderOlderButton()
    }
  }

  /** Adds or updates a confirmed message of the open room. */
  upsertMessage (ev) {
    this.msgs.set(ev.id, ev)
    const existing = this.els.get(ev.id)
    if (existing) {
      this.fillMessage(existing, ev, null)
      return
    }
    // Our own optimistic copy turns into the real one.
    if (ev.clientId && ev.user && ev.user.id === this.me.id) {
      const pending = this.outbox.get(ev.clientId)
      if (pending) {
        this.outbox.delete(ev.clientId)
        if (pending.el) pending.el.remove()
        pending.el = null
      }
    }
    const li = this.messageEl(ev, null)
    this.els.set(ev.id, li)
    let node = this.list.lastElementChild
    while (node && (node.dataset.pending === '1' || compareIds(node.dataset.id, ev.id) > 0)) node = node.previousElementSibling
    if (node) node.after(li)
    else this.list.prepend(li)
  }

  removeMessage (id) {
    const li = this.els.get(id)
    if (li) li.remove()
    this.els.delete(id)
    this.msgs.delete(id)
    this.renderEmpty()
  }

  pendingEvent (p) {
    return { id: null, user: this.me, createdAt: p.createdAt, text: p.text, editedAt: null }
  }

  messageEl (m, pending) {
    const li = h('li', {})
    if (pending) {
      li.dataset.pending = '1'
      li.dataset.clientId = pending.clientId
    } else {
      li.dataset.id = m.id
    }
    this.fillMessage(li, m, pending)
    return li
  }

  fillMessage (li, m, pending) {
    const own = Boolean(m.user && m.user.id === this.me.id)
    li.className = 'msg' + (own ? ' own' : '') + (pending ? ' pending ' + pending.state : ' confirmed')
    const meta = h('div', { class: 'meta' },
      h('span', { class: 'author' }, displayName(m.user)), ' ', timeEl(m.createdAt))
    if (m.editedAt) meta.append(' ', h('span', { class: 'edited' }, '(edited)'))
    if (pending) {
      const label = pending.state === 'failed'
        ? `Not sent: ${pending.error}`
        : pending.state === 'retrying' ? 'Not sent yet, retrying…' : 'Sending…'
      meta.append(' ', h('span', { class: 'state' }, label))
    }
    const parts = [meta, h('div', { class: 'text' }, linkify(m.text))]
    if (pending && pending.state === 'failed') {
      parts.push(h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', onclick: () => this.retry(pending) }, 'Retry'),
        h('button', { type: 'button', class: 'small', onclick: () => this.discard(pending) }, 'Discard')))
    } else if (own && !pending) {
      parts.push(h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', onclick: () => this.startEdit(m.id) }, 'Edit'),
        h('button', { type: 'button', class: 'small', onclick: (e) => this.deleteMessage(m.id, e.currentTarget) }, 'Delete')))
    }
    li.replaceChildren(...parts)
  }

  startEdit (id) {
    const m = this.msgs.get(id)
    const li = this.els.get(id)
    if (!m || !li) return
    const fieldId = 'edit-' + id
    const area = h('textarea', { id: fieldId, rows: '2' })
    area.value = m.text
    const form = h('form', { class: 'edit-form' },
      h('label', { for: fieldId, class: 'sr-only' }, 'Edited text'),
      area,
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'small primary' }, 'Save'),
        h('button', { type: 'button', class: 'small', onclick: () => this.fillMessage(li, this.msgs.get(id) || m, null) }, 'Cancel')))
    const save = async () => {
      const text = area.value
      if (!text.trim()) return
      try {
        const res = await api.edit(this.roomId, id, text)
        const current = this.msgs.get(id)
        if (current) {
          current.text = res && res.event ? res.event.text : text
          current.editedAt = (res && res.event && res.event.createdAt) || new Date().toISOString()
          this.fillMessage(li, current, null)
        }
      } catch (err) {
        this.handleError(err, 'Could not edit')
      }
    }
    form.addEventListener('submit', (e) => { e.preventDefault(); save() })
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); save() }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); this.fillMessage(li, this.msgs.get(id) || m, null) }
    })
    li.querySelector('.text').replaceWith(form)
    const actions = li.querySelector('.actions')
    if (actions) actions.remove()
    area.focus()
  }

  async deleteMessage (id, button) {
    // Two steps, without a blocking confirm(): the first click arms the button.
    if (button.dataset.armed !== '1') {
      button.dataset.armed = '1'
      button.textContent = 'Confirm delete'
      setTimeout(() => {
        if (button.isConnected) { button.dataset.armed = ''; button.textContent = 'Delete' }
      }, 4000)
      return
    }
    try {
      await api.remove(this.roomId, id)
      this.removeMessage(id)
    } catch (err) {
      this.handleError(err, 'Could not delete')
    }
  }

  // ----------------------------------------------------------------- send

  sendFromComposer () {
    const text = this.input.value
    if (!text.trim() || this.roomId === null) return
    if ([...text].length > 4000) {
      this.flash('A message has at most 4000 characters.')
      return
    }
    this.input.value = ''
    this.send(this.roomId, text)
  }

  /** Shows the message at once and sends it; retries keep the same clientId, so it is stored once. */
  send (roomId, text) {
    const p = { clientId: randomId(), roomId, text, state: 'sending', error: '', attempts: 0, createdAt: new Date().toISOString(), el: null }
    this.outbox.set(p.clientId, p)
    if (roomId === this.roomId) {
      p.el = this.messageEl(this.pendingEvent(p), p)
      this.list.append(p.el)
      this.renderEmpty()
      this.scrollToBottom()
    }
    this.lastTypingSent = 0
    this.deliver(p)
  }

  async deliver (p) {
    for (;;) {
      if (this.destroyed || this.outbox.get(p.clientId) !== p) return
      try {
        const res = await api.send(p.roomId, p.text, p.clientId)
        if (this.destroyed) return
        const ev = res && res.event
        if (ev && ev.roomId === this.roomId && p.roomId === this.roomId) {
          const stick = this.atBottom()
          this.upsertMessage(ev)
          if (stick || p.el) this.scrollToBottom()
        }
        if (this.outbox.get(p.clientId) === p) this.outbox.delete(p.clientId)
        if (p.el) p.el.remove()
        p.el = null
        const room = this.rooms.get(p.roomId)
        if (room && ev) room.lastEventId = maxId(room.lastEventId, ev.id)
        this.renderEmpty()
        this.markRead()
        return
      } catch (err) {
        if (!(err instanceof ApiError)) throw err
        if (err.status === 401) {
          this.onSignedOut('Your session has ended. Please sign in again.')
          return
        }
        if (err.transient) {
          p.attempts++
          p.state = 'retrying'
          this.refreshPending(p)
          await sleep(err.retryAfter ?? backoffDelay(p.attempts))
          continue
        }
        p.state = 'failed'
        p.error = errorText(err)
        this.refreshPending(p)
        return
      }
    }
  }

  refreshPending (p) {
    if (p.el) this.fillMessage(p.el, this.pendingEvent(p), p)
  }

  retry (p) {
    p.state = 'sending'
    p.attempts = 0
    this.refreshPending(p)
    this.deliver(p)
  }

  discard (p) {
    this.outbox.delete(p.clientId)
    if (p.el) p.el.remove()
    p.el = null
    this.renderEmpty()
  }

  typed () {
    if (this.roomId === null || !this.input.value.trim()) return
    const now = Date.now()
    if (now - this.lastTypingSent < TYPING_EVERY_MS) return
    this.lastTypingSent = now
    api.typing(this.roomId).catch(() => { /* only a hint */ })
  }

  renderTyping () {
    clearTimeout(this.typingTimer)
    const now = Date.now()
    const names = []
    let next = Infinity
    for (const [id, t] of this.typing) {
      if (t.until <= now) this.typing.delete(id)
      else { names.push(t.name); next = Math.min(next, t.until) }
    }
    this.typingLine.textContent = names.length === 0
      ? ''
      : names.length === 1
        ? `${names[0]} is typing…`
        : names.length <= 3 ? `${names.join(', ')} are typing…` : 'Several people are typing…'
    if (names.length) this.typingTimer = setTimeout(() => this.renderTyping(), next - now + 50)
  }

  // --------------------------------------------------------------- reading

  markRead () {
    if (this.roomId === null || document.visibilityState !== 'visible' || !this.atBottom()) return
    let node = this.list.lastElementChild
    while (node && !node.dataset.id) node = node.previousElementSibling
    const room = this.rooms.get(this.roomId)
    if (room && room.unread) {
      room.unread = 0
      this.renderRooms()
      this.updateTitle()
    }
    if (!node) return
    const latest = node.dataset.id
    const roomId = this.roomId
    const sent = this.readSent.get(roomId)
    if (sent && compareIds(sent, latest) >= 0) return
    this.readSent.set(roomId, latest)
    api.read(roomId, latest).catch((err) => {
      if (err instanceof ApiError && err.status === 401) this.onSignedOut('Your session has ended. Please sign in again.')
      else if (this.readSent.get(roomId) === latest) this.readSent.delete(roomId)
    })
  }

  // ---------------------------------------------------------------- events

  remember (id) {
    this.seen.add(id)
    if (this.seen.size > SEEN_MAX) {
      const drop = this.seen.size - SEEN_MAX / 2
      let i = 0
      for (const old of this.seen) {
        if (i++ >= drop) break
        this.seen.delete(old)
      }
    }
  }

  /** Events from the shared poll, oldest first, possibly seen before. */
  applyEvents (events, isLeader) {
    if (this.destroyed) return
    const stick = this.atBottom()
    const reading = stick && document.visibilityState === 'visible'
    let roomsChanged = false
    let inView = false
    let ownInView = false
    for (const ev of events) {
      if (!ev || typeof ev !== 'object') continue
      if (ev.id !== null && ev.id !== undefined) {
        if (this.seen.has(ev.id)) continue
        this.remember(ev.id)
      }
      const room = this.rooms.get(ev.roomId)
      const mine = Boolean(ev.user && ev.user.id === this.me.id)
      switch (ev.type) {
        case 'message': {
          if (!room) { this.refreshRoomsSoon(); break }
          const fresh = !room.lastEventId || compareIds(ev.id, room.lastEventId) > 0
          room.lastEventId = maxId(room.lastEventId, ev.id)
          if (ev.roomId === this.roomId) {
            this.upsertMessage(ev)
            inView = true
            if (mine) ownInView = true
            if (ev.user && this.typing.delete(ev.user.id)) this.renderTyping()
          }
          if (!mine && fresh && !(ev.roomId === this.roomId && reading)) {
            room.unread = (room.unread || 0) + 1
            roomsChanged = true
          }
          if (!mine && isLeader && room.kind === 'direct') this.notify(ev, room)
          break
        }
        case 'message.edited': {
          const m = ev.roomId === this.roomId ? this.msgs.get(ev.messageId) : null
          if (m) {
            m.text = ev.text
            m.editedAt = ev.createdAt
            const li = this.els.get(ev.messageId)
            if (li && !li.querySelector('.edit-form')) this.fillMessage(li, m, null)
          }
          break
        }
        case 'message.deleted':
          if (ev.roomId === this.roomId) this.removeMessage(ev.messageId)
          if (room && room.unread) this.refreshRoomsSoon()
          break
        case 'member.joined':
        case 'member.left':
          if (mine || !room) this.refreshRoomsSoon()
          if (ev.roomId === this.roomId) this.loadMembersSoon()
          break
        case 'room.created':
          this.refreshRoomsSoon()
          break
        case 'read':
          if (room) {
            if (!room.lastEventId || compareIds(ev.eventId, room.lastEventId) >= 0) {
              if (room.unread) { room.unread = 0; roomsChanged = true }
            } else {
              this.refreshRoomsSoon()
            }
            this.readSent.set(ev.roomId, maxId(this.readSent.get(ev.roomId), ev.eventId))
          }
          break
        case 'typing':
          if (ev.roomId === this.roomId && ev.user && !mine) {
            this.typing.set(ev.user.id, { name: displayName(ev.user), until: Date.now() + TYPING_SHOWN_MS })
            this.renderTyping()
          }
          break
      }
    }
    if (inView) {
      this.renderEmpty()
      if (stick || ownInView) this.scrollToBottom()
      this.markRead()
    }
    if (roomsChanged) {
      this.renderRooms()
      this.updateTitle()
    }
  }

  notify (ev, room) {
    if (typeof Notification !== 'function' || Notification.permission !== 'granted') return
    if (document.visibilityState === 'visible' && ev.roomId === this.roomId) return
    try {
      const n = new Notification(displayName(ev.user), { body: String(ev.text || '').slice(0, 200), tag: 'chat-' + ev.id })
      n.onclick = () => { window.focus(); this.goTo(room.id); n.close() }
    } catch { /* some browsers only allow notifications from a service worker */ }
  }

  // --------------------------------------------------------------- members

  async loadMembers () {
    const roomId = this.roomId
    const gen = this.viewGen
    if (roomId === null) return
    try {
      const { members } = await api.members(roomId)
      if (gen !== this.viewGen || this.destroyed) return
      this.members = members
      this.renderMembers()
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.handleError(err, '')
      else if (err instanceof ApiError && err.code === 'not_member') this.refreshRoomsSoon()
    }
  }

  renderMembers () {
    const sorted = [...this.members].sort((a, b) =>
      (b.online === true) - (a.online === true) || displayName(a).localeCompare(displayName(b)))
    const online = sorted.filter(m => m.online).length
    this.membersTitle.textContent = `Members (${sorted.length}, ${online} online)`
    this.memberList.replaceChildren(...sorted.map(m => h('li', { class: m.online ? 'online' : 'offline' },
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h('span', { class: 'member-name' }, displayName(m)),
      m.displayName && m.displayName !== m.username ? h('span', { class: 'muted' }, ' @' + m.username) : null,
      m.id === this.me.id ? h('span', { class: 'muted' }, ' (you)') : null,
      h('span', { class: 'presence' }, m.online ? ' online' : ' offline'))))
  }
}

function safeGet (key) {
  try { return localStorage.getItem(key) } catch { return null }
}

function safeSet (key, value) {
  try { localStorage.setItem(key, value) } catch { /* private mode */ }
}
