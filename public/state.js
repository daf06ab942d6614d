import { compareIds, maxId, displayName } from './ui.js'

// What the signed-in screen shows, as one plain value, and every way it
// changes: `reduce(state, event)` for the events the poll delivers, and small
// named updates for what the page itself learns (a loaded page of history, a
// message sent). All are pure: they return a new state and never touch the
// page or the network, so Node tests them without a browser. Views render from
// the state; chat.js wires them together.

export const TYPING_SHOWN_MS = 6000

/**
 * @param {{id: string, username: string, displayName?: string}} me
 */
export function initialState (me) {
  return {
    me,
    /** null (not yet known) | 'connected' | 'reconnecting' */
    connection: null,
    /** room id → {id, name, kind, visibility, unread, lastEventId, peer?, role?} */
    rooms: {},
    /** direct room id → the other person's username, when the room list did not say */
    directNames: {},
    roomId: null,
    /** The open room's confirmed messages, oldest first. */
    messages: [],
    /** The open room's newest page: 'loading' | 'ready' | 'failed'. */
    history: 'ready',
    hasMore: false,
    /** Messages on their way: {clientId, roomId, text, state: sending|retrying|failed, error, createdAt}. */
    outbox: [],
    /** user id → {name, until}: who is typing in the open room. */
    typing: {},
    members: [],
    /** room id → the newest event id told to the server as read. */
    readSent: {},
    /** The reader sees the newest messages of the open room (its unread count stays 0). */
    reading: false,
    /** The time the page last looked at the clock (ms): typing notices expire against it. */
    now: 0,
    /** Bumped when the room list must be fetched again. */
    roomsStale: 0,
    /** Bumped when the open room's member list must be fetched again. */
    membersStale: 0,
    /** The open room has newer messages than those loaded (after a jump to an older one). */
    newer: false,
    /** The message jumped to and the words to mark in it: {id, words} | null. */
    focus: null,
    /** Files on their way: {clientId, roomId, names, loaded, total, state: uploading|retrying|failed, error}. */
    uploads: [],
    /** The search box's answer: {q, words, status: loading|ready|failed, events, hasMore} | null. */
    search: null,
    /** Bumped when the open room's ban list (shown to moderators) must be fetched again. */
    bansStale: 0,
    /** The signed-in user is a site administrator (acts as owner everywhere). */
    admin: false,
    /** room id → true: rooms whose messages neither notify nor count in the title (kept in this browser). */
    muted: {},
    /** No input in any tab for AWAY_AFTER_MS. */
    away: false,
    /** The latest thing the reader must be told about ({id, text}): removed from a room, a room archived. */
    notice: null
  }
}

// ------------------------------------------------------------------ events

/** One event from the poll, oldest first, possibly seen before (every case is idempotent). */
export function reduce (state, ev) {
  if (!ev || typeof ev !== 'object') return state
  const room = state.rooms[ev.roomId]
  const open = ev.roomId === state.roomId && state.roomId !== null
  const mine = Boolean(ev.user && ev.user.id === state.me.id)
  switch (ev.type) {
    case 'message': {
      if (!room) return roomsStale(state)
      const fresh = !room.lastEventId || compareIds(ev.id, room.lastEventId) > 0
      let next = state
      // A window that stops short of the newest messages would show this one after a gap.
      if (open && !state.newer) {
        next = upsertMessage(next, ev)
        if (ev.user && next.typing[ev.user.id]) next = { ...next, typing: without(next.typing, ev.user.id) }
      }
      const counts = !mine && fresh && !(open && state.reading && !state.newer)
      const unread = (room.unread || 0) + (counts ? 1 : 0)
      const mentions = (room.mentions || 0) + (counts && mentionsMe(state, ev) ? 1 : 0)
      return withRoom(next, { ...room, lastEventId: maxId(room.lastEventId, ev.id), unread, mentions })
    }
    case 'message.edited': {
      // An edit may add a mention of us somewhere we are not looking: the server counts it.
      const next = room && !open && Array.isArray(ev.mentions) && ev.mentions.includes(state.me.id) ? roomsStale(state) : state
      if (!open) return next
      return mapMessage(next, ev.messageId, m => ({ ...m, text: ev.text, editedAt: ev.createdAt, ...(ev.mentions ? { mentions: ev.mentions } : {}) }))
    }
    case 'message.deleted': {
      let next = open ? messageRemoved(state, ev.roomId, ev.messageId) : state
      // An unread message may be the one deleted: the server's count is the truth.
      if (room && (room.unread || room.mentions)) next = roomsStale(next)
      return next
    }
    case 'member.joined':
    case 'member.left': {
      const target = ev.target || ev.user
      // Kicked or banned: the room goes at once, and we say who did it.
      if (ev.type === 'member.left' && ev.by && target && target.id === state.me.id) {
        return room ? removedFrom(state, room, ev, 'removed') : state
      }
      let next = mine || !room ? roomsStale(state) : state
      if (open) next = membersStale(next)
      return next
    }
    case 'member.banned':
    case 'member.unbanned': {
      if (ev.type === 'member.banned' && ev.target && ev.target.id === state.me.id) {
        return room ? removedFrom(state, room, ev, 'banned') : state
      }
      return open ? { ...membersStale(state), bansStale: state.bansStale + 1 } : state
    }
    case 'member.role': {
      let next = open ? membersStale(state) : state
      if (room && ev.target && ev.target.id === state.me.id) next = withRoom(next, { ...room, role: ev.role })
      return next
    }
    case 'room.created': {
      // Someone opened a direct room with us: list it now, as the room list will, so that
      // the first message (often in the same batch, or before a throttled background tab
      // fetches the list) counts and notifies like any other direct message.
      const theirs = ev.room && ev.room.kind === 'direct' && !room && !mine && ev.user
      const next = theirs ? withRoom(state, { id: ev.roomId, name: null, kind: 'direct', visibility: 'private', unread: 0, mentions: 0, lastEventId: ev.id, peer: ev.user }) : state
      return roomsStale(next)
    }
    case 'room.updated':
      if (!room || !ev.room) return roomsStale(state)
      return withRoom(state, { ...room, ...pick(ev.room, ['name', 'visibility', 'topic']) })
    case 'room.archived': {
      if (!room) return state
      const rooms = without(state.rooms, ev.roomId)
      return { ...state, rooms, notice: { id: ev.id, text: `${roomLabel(state, room)} was archived.` } }
    }
    case 'read': {
      if (!room) return state
      const readSent = { ...state.readSent, [ev.roomId]: maxId(state.readSent[ev.roomId], ev.eventId) }
      if (!room.lastEventId || compareIds(ev.eventId, room.lastEventId) >= 0) {
        return withRoom({ ...state, readSent }, room.unread || room.mentions ? { ...room, unread: 0, mentions: 0 } : room)
      }
      // Read up to an older message elsewhere: only the server knows what is left.
      return roomsStale({ ...state, readSent })
    }
    case 'typing': {
      if (!open || !ev.user || mine) return state
      const typing = { ...state.typing, [ev.user.id]: { name: nameWithHandle(ev.user), until: state.now + TYPING_SHOWN_MS } }
      return { ...state, typing }
    }
    default:
      return state
  }
}

// ----------------------------------------------------- what the page learns

export function observed (state, { now, reading }) {
  if (state.now === now && state.reading === reading) return state
  return { ...state, now, reading }
}

export function connectionChanged (state, connection) {
  return state.connection === connection ? state : { ...state, connection }
}

export function roomsLoaded (state, list) {
  const rooms = {}
  for (const r of list) rooms[r.id] = { ...r, unread: r.unread || 0, mentions: r.mentions || 0 }
  return { ...state, rooms }
}

export function directNameFound (state, roomId, username) {
  return { ...state, directNames: { ...state.directNames, [roomId]: username } }
}

export function roomOpened (state, roomId) {
  return { ...state, roomId, messages: [], history: roomId === null ? 'ready' : 'loading', hasMore: false, typing: {}, members: [], newer: false, focus: null }
}

export function historyFailed (state, roomId) {
  return roomId === state.roomId ? { ...state, history: 'failed' } : state
}

export function roomLeft (state, roomId) {
  return { ...state, rooms: without(state.rooms, roomId) }
}

/** The newest page of the open room's history. */
export function latestLoaded (state, roomId, events, hasMore) {
  if (roomId !== state.roomId) return state
  // A window around an older message is replaced: the newest page does not join it.
  let next = state.newer ? { ...state, history: 'ready', messages: [], newer: false } : { ...state, history: 'ready' }
  if (events.length) {
    // Messages inside the page's range that the page lacks were deleted while we were away.
    const lo = events[0].id
    const hi = events[events.length - 1].id
    const ids = new Set(events.map(e => e.id))
    const messages = next.messages.filter(m => compareIds(m.id, lo) < 0 || compareIds(m.id, hi) > 0 || ids.has(m.id))
    const olderKept = messages.some(m => compareIds(m.id, lo) < 0)
    next = { ...next, messages, hasMore: olderKept ? next.hasMore : Boolean(hasMore) }
  } else {
    next = { ...next, hasMore: false }
  }
  for (const ev of events) next = upsertMessage(next, ev)
  return next
}

export function olderLoaded (state, roomId, events, hasMore) {
  if (roomId !== state.roomId) return state
  let next = state
  for (const ev of events) next = upsertMessage(next, ev)
  return { ...next, hasMore: Boolean(hasMore) && events.length > 0 }
}

export function messageRemoved (state, roomId, id) {
  if (roomId !== state.roomId || !state.messages.some(m => m.id === id)) return state
  return { ...state, messages: state.messages.filter(m => m.id !== id) }
}

/** The server's answer to our own edit. */
export function messageEdited (state, roomId, id, text, editedAt) {
  if (roomId !== state.roomId) return state
  return mapMessage(state, id, m => ({ ...m, text, editedAt }))
}

export function pendingAdded (state, pending) {
  return { ...state, outbox: [...state.outbox, pending] }
}

export function pendingChanged (state, clientId, patch) {
  if (!state.outbox.some(p => p.clientId === clientId)) return state
  return { ...state, outbox: state.outbox.map(p => p.clientId === clientId ? { ...p, ...patch } : p) }
}

export function pendingDropped (state, clientId) {
  if (!state.outbox.some(p => p.clientId === clientId)) return state
  return { ...state, outbox: state.outbox.filter(p => p.clientId !== clientId) }
}

/** The server stored a message we sent: the optimistic copy becomes the real one. */
export function messageSent (state, clientId, ev) {
  let next = pendingDropped(state, clientId)
  if (!ev) return next
  if (ev.roomId === next.roomId && !next.newer) next = upsertMessage(next, ev)
  const room = next.rooms[ev.roomId]
  if (room) next = withRoom(next, { ...room, lastEventId: maxId(room.lastEventId, ev.id) })
  return next
}

export function membersLoaded (state, roomId, members) {
  return roomId === state.roomId ? { ...state, members } : state
}

/** The open room is read up to `eventId` (null: nothing to tell the server, only the count). */
export function readMarked (state, roomId, eventId) {
  let next = state
  const room = next.rooms[roomId]
  if (room && (room.unread || room.mentions)) next = withRoom(next, { ...room, unread: 0, mentions: 0 })
  if (eventId !== null) next = { ...next, readSent: { ...next.readSent, [roomId]: eventId } }
  return next
}

export function readFailed (state, roomId, eventId) {
  if (state.readSent[roomId] !== eventId) return state
  return { ...state, readSent: without(state.readSent, roomId) }
}

export function adminKnown (state, admin) {
  return state.admin === admin ? state : { ...state, admin }
}

/** The muted rooms as this browser keeps them: room id → true. */
export function mutedLoaded (state, muted) {
  return { ...state, muted }
}

export function awayChanged (state, away) {
  return state.away === away ? state : { ...state, away }
}

export function typingExpired (state) {
  const typing = {}
  let changed = false
  for (const [id, t] of Object.entries(state.typing)) {
    if (t.until > state.now) typing[id] = t
    else changed = true
  }
  return changed ? { ...state, typing } : state
}

// ------------------------------------------------- jumping to a message

/**
 * Opens `roomId` at message `id` with `words` marked in it. The log is emptied
 * and waits for `aroundLoaded`, unless the message is already on screen.
 */
export function jumpStarted (state, roomId, id, words) {
  const focus = { id, words }
  if (roomId === state.roomId && state.messages.some(m => m.id === id)) return { ...state, focus }
  const base = roomId === state.roomId ? state : roomOpened(state, roomId)
  // `newer` until the pages arrive: poll messages must not start a window of their own.
  return { ...base, messages: [], history: 'loading', hasMore: false, newer: true, focus }
}

/** The pages on both sides of a message jumped to: `older` ends with it, `newer` follows it. */
export function aroundLoaded (state, roomId, older, newer) {
  if (roomId !== state.roomId) return state
  let next = { ...state, messages: [], history: 'ready', hasMore: Boolean(older.hasMore), newer: Boolean(newer.hasMore) }
  for (const ev of [...older.events, ...newer.events]) next = upsertMessage(next, ev)
  return next
}

/** The next page after the loaded window; without more, the window has reached the newest. */
export function newerLoaded (state, roomId, events, hasMore) {
  if (roomId !== state.roomId || !state.newer) return state
  let next = state
  for (const ev of events) next = upsertMessage(next, ev)
  return { ...next, newer: Boolean(hasMore) && events.length > 0 }
}

/** Leaves a window around an older message for the newest page (to be loaded): where a message we send goes. */
export function backToLatest (state) {
  if (!state.newer) return state
  return { ...state, messages: [], history: 'loading', hasMore: false, newer: false, focus: null }
}

// ---------------------------------------------------------------- uploads

export function uploadAdded (state, upload) {
  return { ...state, uploads: [...state.uploads, upload] }
}

export function uploadChanged (state, clientId, patch) {
  if (!state.uploads.some(u => u.clientId === clientId)) return state
  return { ...state, uploads: state.uploads.map(u => u.clientId === clientId ? { ...u, ...patch } : u) }
}

export function uploadDropped (state, clientId) {
  if (!state.uploads.some(u => u.clientId === clientId)) return state
  return { ...state, uploads: state.uploads.filter(u => u.clientId !== clientId) }
}

/** The server stored an upload: its message event (with `attachments`) joins the log like a sent message. */
export function uploadSent (state, clientId, ev) {
  return messageSent(uploadDropped(state, clientId), clientId, ev)
}

// ----------------------------------------------------------------- search

/** The words a search marks: what the server matches, every space-separated word of the query. */
export function searchWords (q) {
  return q.trim().split(/\s+/u).filter(Boolean)
}

export function searchStarted (state, q) {
  return { ...state, search: { q, words: searchWords(q), status: 'loading', events: [], hasMore: false } }
}

/** A page of results for `q` (`more`: the next page, appended); an answer to an older query is dropped. */
export function searchLoaded (state, q, events, hasMore, more = false) {
  const search = state.search
  if (!search || search.q !== q) return state
  const known = more ? search.events : []
  const ids = new Set(known.map(e => e.id))
  const merged = [...known, ...events.filter(e => !ids.has(e.id))]
  return { ...state, search: { ...search, status: 'ready', events: merged, hasMore: Boolean(hasMore) } }
}

export function searchFailed (state, q) {
  if (!state.search || state.search.q !== q) return state
  return { ...state, search: { ...state.search, status: 'failed' } }
}

export function searchClosed (state) {
  return state.search === null ? state : { ...state, search: null }
}

// --------------------------------------------------------------- selectors

/** A display name with the account's @username beside it when they differ: nobody can pass for someone else. */
export function nameWithHandle (user) {
  if (!user) return 'someone'
  const shown = displayName(user)
  return user.username && shown !== user.username ? `${shown} (@${user.username})` : shown
}

export function roomLabel (state, room) {
  if (!room) return ''
  if (room.kind === 'direct') {
    const other = room.name || (room.peer && room.peer.username) || state.directNames[room.id]
    return other ? '@' + other : 'Direct chat'
  }
  return '#' + room.name
}

export function currentRoom (state) {
  return state.roomId === null ? null : state.rooms[state.roomId] || null
}

export function sortedRooms (state) {
  return Object.values(state.rooms).sort((a, b) => roomLabel(state, a).localeCompare(roomLabel(state, b)))
}

/** Unread messages of the rooms that are not muted: the title's count. */
export function totalUnread (state) {
  let total = 0
  for (const r of Object.values(state.rooms)) if (!state.muted[r.id]) total += r.unread || 0
  return total
}

/** Whether a message names us. The server decides (it leaves `mentions` out when nobody is named). */
export function mentionsMe (state, m) {
  if (!m || (m.user && m.user.id === state.me.id)) return false
  return Array.isArray(m.mentions) && m.mentions.includes(state.me.id)
}

const RANKS = { member: 1, moderator: 2, owner: 3 }

/** Our role in the open room: administrators act as owners; else the member list's word (or the last role event). */
export function myRole (state) {
  const room = currentRoom(state)
  if (!room || room.kind === 'direct') return null
  if (state.admin) return 'owner'
  const entry = state.members.find(m => m.id === state.me.id)
  return (entry && entry.role) || room.role || 'member'
}

/** Whether our role in the open room reaches `role` ('moderator' or 'owner'). */
export function mayAct (state, role) {
  const mine = myRole(state)
  return mine !== null && RANKS[mine] >= RANKS[role]
}

/** 'away' | 'online' | 'offline' for one entry of the member list; our own from this browser's verdict, at once. */
export function memberPresence (state, member) {
  const away = member.id === state.me.id ? state.away : member.online && member.away === true
  return away ? 'away' : member.online ? 'online' : 'offline'
}

/**
 * What a desktop notification should say about this event, or null: others'
 * new messages in a direct room or mentioning us, in a room that is not muted.
 * Asked with the state from before the event, so an event seen twice is not new.
 */
export function notificationFor (state, ev) {
  if (!ev || ev.type !== 'message' || !ev.user || ev.user.id === state.me.id) return null
  const room = state.rooms[ev.roomId]
  if (!room || state.muted[room.id]) return null
  if (room.lastEventId && compareIds(ev.id, room.lastEventId) <= 0) return null
  const direct = room.kind === 'direct'
  if (!direct && !mentionsMe(state, ev)) return null
  const title = direct ? nameWithHandle(ev.user) : `${nameWithHandle(ev.user)} in ${roomLabel(state, room)}`
  return { roomId: room.id, title, body: String(ev.text || '').slice(0, 200), tag: 'chat-' + ev.id }
}

/** The id to tell the server as read, or null when it knows already. */
export function unsentRead (state) {
  const newest = state.messages.length ? state.messages[state.messages.length - 1].id : null
  if (state.roomId === null || newest === null || state.newer) return null
  const sent = state.readSent[state.roomId]
  return sent && compareIds(sent, newest) >= 0 ? null : newest
}

export function typingNames (state) {
  return Object.values(state.typing).filter(t => t.until > state.now).map(t => t.name)
}

// ----------------------------------------------------------------- helpers

/** Adds or replaces a confirmed message of the open room, in id order; our own optimistic copy goes. */
function upsertMessage (state, ev) {
  let next = state
  if (ev.clientId && ev.user && ev.user.id === state.me.id) next = pendingDropped(next, ev.clientId)
  const messages = next.messages
  const at = messages.findIndex(m => m.id === ev.id)
  if (at >= 0) {
    const copy = messages.slice()
    copy[at] = ev
    return { ...next, messages: copy }
  }
  let i = messages.length
  while (i > 0 && compareIds(messages[i - 1].id, ev.id) > 0) i--
  return { ...next, messages: [...messages.slice(0, i), ev, ...messages.slice(i)] }
}

/** We were kicked or banned: the room leaves the list, and the reader is told by whom. */
function removedFrom (state, room, ev, how) {
  const by = ev.by || ev.user
  const text = `You were ${how} from ${roomLabel(state, room)} by ${nameWithHandle(by)}.`
  return { ...state, rooms: without(state.rooms, room.id), notice: { id: ev.id, text } }
}

function mapMessage (state, id, fn) {
  if (!state.messages.some(m => m.id === id)) return state
  return { ...state, messages: state.messages.map(m => m.id === id ? fn(m) : m) }
}

function withRoom (state, room) {
  return { ...state, rooms: { ...state.rooms, [room.id]: room } }
}

function roomsStale (state) {
  return { ...state, roomsStale: state.roomsStale + 1 }
}

function membersStale (state) {
  return { ...state, membersStale: state.membersStale + 1 }
}

function without (object, key) {
  const copy = { ...object }
  delete copy[key]
  return copy
}

function pick (object, keys) {
  const out = {}
  for (const k of keys) if (k in object) out[k] = object[k]
  return out
}

/** Holds the state; views subscribe and render from it. */
export class Store {
  constructor (state) {
    this.state = state
    this.listeners = new Set()
  }

  get () {
    return this.state
  }

  /** Applies a pure update `fn(state, ...args)` and tells the subscribers when something changed. */
  update (fn, ...args) {
    const prev = this.state
    const next = fn(prev, ...args)
    if (next === prev) return
    this.state = next
    for (const listener of this.listeners) listener(next, prev)
  }

  subscribe (listener) {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
