import t from 'tap'
import { loadClientModule } from './load.js'

// The client's state store (public/state.js): the pure event reducer, one
// test per event type of the contract, and the page's own updates.

type State = Record<string, any>
type Update = (state: State, ...args: any[]) => State
interface StateModule {
  initialState: (me: object) => State
  reduce: (state: State, ev: object) => State
  observed: Update
  roomsLoaded: Update
  roomOpened: Update
  latestLoaded: Update
  olderLoaded: Update
  pendingAdded: Update
  messageSent: Update
  readMarked: Update
  typingExpired: Update
  membersLoaded: Update
  adminKnown: Update
  mutedLoaded: Update
  awayChanged: Update
  memberPresence: (state: State, member: object) => string
  totalUnread: (state: State) => number
  mentionsMe: (state: State, m: object) => boolean
  myRole: (state: State) => string | null
  mayAct: (state: State, role: string) => boolean
  notificationFor: (state: State, ev: object) => { roomId: string, title: string, body: string, tag: string } | null
  unsentRead: (state: State) => string | null
  typingNames: (state: State) => string[]
  nameWithHandle: (user: object) => string
  roomLabel: (state: State, room: object) => string
  jumpStarted: Update
  aroundLoaded: Update
  newerLoaded: Update
  backToLatest: Update
  uploadAdded: Update
  uploadChanged: Update
  uploadSent: Update
  searchStarted: Update
  searchLoaded: Update
  searchFailed: Update
  searchClosed: Update
  Store: new (state: State) => { get: () => State, update: (fn: Update, ...args: any[]) => void, subscribe: (l: (next: State, prev: State) => void) => () => void }
  TYPING_SHOWN_MS: number
}

const s = await loadClientModule<StateModule>('state.js')

const me = { id: '1', username: 'alice', displayName: 'Alice' }
const bob = { id: '2', username: 'bob', displayName: 'Bob' }
const eve = { id: '3', username: 'eve', displayName: 'alice' }
const at = '2026-12-01T10:00:00.000Z'
const message = (id: string, roomId: string, user = bob, extra = {}) =>
  ({ id, type: 'message', roomId, user, createdAt: at, text: 'text ' + id, clientId: 'c' + id, ...extra })

/** Alice in #general (open, at the bottom) and #random, one message each. */
function start (): State {
  let state = s.initialState(me)
  state = s.roomsLoaded(state, [
    { id: '10', name: 'general', kind: 'channel', visibility: 'public', unread: 0, lastEventId: '100' },
    { id: '11', name: 'random', kind: 'channel', visibility: 'public', unread: 0, lastEventId: '101' }
  ])
  state = s.roomOpened(state, '10')
  state = s.latestLoaded(state, '10', [message('100', '10')], false)
  return s.observed(state, { now: 1000, reading: true })
}

t.test('message', async t => {
  const before = start()
  const inOpen = s.reduce(before, message('102', '10'))
  t.same(inOpen.messages.map((m: any) => m.id), ['100', '102'], 'added to the open room, in order')
  t.equal(inOpen.rooms['10'].unread, 0, 'read as it arrives while the reader is at the bottom')
  t.equal(inOpen.rooms['10'].lastEventId, '102')
  t.equal(before.messages.length, 1, 'the old state is untouched')
  t.same(s.reduce(inOpen, message('102', '10')).messages.map((m: any) => m.id), ['100', '102'], 'a repeated event is not shown twice')
  t.equal(s.reduce(inOpen, message('102', '10')).rooms['10'].unread, 0)

  const elsewhere = s.reduce(s.reduce(before, message('103', '11')), message('103', '11'))
  t.equal(elsewhere.rooms['11'].unread, 1, 'another room counts one unread, once')
  t.equal(elsewhere.messages.length, 1, 'not shown in the open room')

  const away = s.reduce(s.observed(before, { now: 1000, reading: false }), message('104', '10'))
  t.equal(away.rooms['10'].unread, 1, 'the open room counts when the reader is scrolled up or away')

  const own = s.reduce(before, message('105', '11', me))
  t.equal(own.rooms['11'].unread, 0, 'our own messages are never unread')

  const older = s.reduce(before, message('050', '11'))
  t.equal(older.rooms['11'].unread, 0, 'an event older than the room\'s newest is not new')

  const unknown = s.reduce(before, message('106', '99'))
  t.equal(unknown.roomsStale, before.roomsStale + 1, 'a room we do not know: fetch the list again')

  const pending = s.pendingAdded(before, { clientId: 'c107', roomId: '10', text: 'mine', state: 'sending' })
  const confirmed = s.reduce(pending, message('107', '10', me))
  t.same(confirmed.outbox, [], 'our own message arriving replaces its optimistic copy')
  t.same(confirmed.messages.map((m: any) => m.id), ['100', '107'])

  const typing = s.reduce(before, { id: null, type: 'typing', roomId: '10', user: bob, createdAt: at })
  t.same(s.typingNames(s.reduce(typing, message('108', '10'))), [], 'a message ends its author\'s typing notice')
})

t.test('message.edited', async t => {
  const state = start()
  const edited = s.reduce(state, { id: '110', type: 'message.edited', roomId: '10', messageId: '100', text: 'fixed', user: bob, createdAt: at })
  t.equal(edited.messages[0].text, 'fixed')
  t.equal(edited.messages[0].editedAt, at)
  t.equal(s.reduce(state, { id: '111', type: 'message.edited', roomId: '11', messageId: '101', text: 'x', user: bob, createdAt: at }), state,
    'an edit in a room that is not open changes nothing')
})

t.test('message.deleted', async t => {
  const state = start()
  const deleted = s.reduce(state, { id: '112', type: 'message.deleted', roomId: '10', messageId: '100', user: bob, createdAt: at })
  t.same(deleted.messages, [])
  const unread = s.reduce(state, message('113', '11'))
  const gone = s.reduce(unread, { id: '114', type: 'message.deleted', roomId: '11', messageId: '113', user: bob, createdAt: at })
  t.equal(gone.roomsStale, unread.roomsStale + 1, 'an unread message may be the deleted one: counts are fetched again')
})

t.test('member.joined and member.left', async t => {
  const state = start()
  for (const type of ['member.joined', 'member.left']) {
    const other = s.reduce(state, { id: '120', type, roomId: '10', user: bob, createdAt: at })
    t.equal(other.membersStale, state.membersStale + 1, `${type} in the open room: members again`)
    t.equal(other.roomsStale, state.roomsStale, 'the room list stays')
    const mine = s.reduce(state, { id: '121', type, roomId: '11', user: me, createdAt: at })
    t.equal(mine.roomsStale, state.roomsStale + 1, `our own ${type}: the room list again`)
    t.equal(mine.membersStale, state.membersStale, 'not the open room')
  }
})

t.test('member.role', async t => {
  const state = start()
  const promoted = s.reduce(state, { id: '122', type: 'member.role', roomId: '10', user: bob, target: me, role: 'moderator', createdAt: at })
  t.equal(promoted.rooms['10'].role, 'moderator', 'our own role is kept on the room')
  t.equal(promoted.membersStale, state.membersStale + 1)
  const other = s.reduce(state, { id: '123', type: 'member.role', roomId: '11', user: me, target: bob, role: 'member', createdAt: at })
  t.equal(other.rooms['11'].role, undefined)
})

t.test('room.created', async t => {
  const state = start()
  const created = s.reduce(state, { id: '124', type: 'room.created', roomId: '12', user: me, room: { id: '12', name: 'new', kind: 'channel', visibility: 'public' }, createdAt: at })
  t.equal(created.roomsStale, state.roomsStale + 1)
})

t.test('room.updated', async t => {
  const state = start()
  const renamed = s.reduce(state, { id: '125', type: 'room.updated', roomId: '11', user: bob, room: { id: '11', name: 'chatter', visibility: 'private', topic: 'x' }, createdAt: at })
  t.equal(renamed.rooms['11'].name, 'chatter')
  t.equal(renamed.rooms['11'].visibility, 'private')
  t.equal(renamed.rooms['11'].lastEventId, '101', 'what the event does not say is kept')
  t.equal(s.roomLabel(renamed, renamed.rooms['11']), '#chatter')
})

t.test('room.archived', async t => {
  const state = start()
  const archived = s.reduce(state, { id: '126', type: 'room.archived', roomId: '10', user: bob, createdAt: at })
  t.notOk('10' in archived.rooms, 'out of the list')
  t.equal(s.reduce(archived, { id: '126', type: 'room.archived', roomId: '10', user: bob, createdAt: at }), archived, 'again: nothing')
})

t.test('read', async t => {
  const unread = s.reduce(start(), message('130', '11'))
  const read = s.reduce(unread, { id: null, type: 'read', roomId: '11', eventId: '130', user: me, createdAt: at })
  t.equal(read.rooms['11'].unread, 0, 'read in another tab: the count clears')
  t.equal(read.readSent['11'], '130', 'and it is not sent again')
  const partly = s.reduce(unread, { id: null, type: 'read', roomId: '11', eventId: '101', user: me, createdAt: at })
  t.equal(partly.roomsStale, unread.roomsStale + 1, 'read up to an older message: ask the server')
})

t.test('typing', async t => {
  const state = start()
  const typing = s.reduce(state, { id: null, type: 'typing', roomId: '10', user: bob, createdAt: at })
  t.same(s.typingNames(typing), ['Bob (@bob)'])
  t.same(s.typingNames(s.reduce(state, { id: null, type: 'typing', roomId: '10', user: me, createdAt: at })), [], 'not ourselves')
  t.same(s.typingNames(s.reduce(state, { id: null, type: 'typing', roomId: '11', user: bob, createdAt: at })), [], 'not another room')
  const later = s.typingExpired(s.observed(typing, { now: 1000 + s.TYPING_SHOWN_MS, reading: true }))
  t.same(later.typing, {}, 'the notice expires')
})

t.test('mentions: counted apart from unread, cleared with it', async t => {
  const state = start()
  const named = s.reduce(state, message('160', '11', bob, { text: '@alice look', mentions: ['1'] }))
  t.equal(named.rooms['11'].unread, 1)
  t.equal(named.rooms['11'].mentions, 1, 'a message naming us counts as a mention')
  t.equal(s.reduce(named, message('160', '11', bob, { mentions: ['1'] })).rooms['11'].mentions, 1, 'once, however often it arrives')
  const other = s.reduce(named, message('161', '11', bob, { mentions: ['2'] }))
  t.equal(other.rooms['11'].mentions, 1, 'a mention of someone else is only unread')
  t.equal(other.rooms['11'].unread, 2)
  const read = s.reduce(other, { id: null, type: 'read', roomId: '11', eventId: '161', user: me, createdAt: at })
  t.equal(read.rooms['11'].mentions, 0, 'read in another tab: mentions clear too')
  t.equal(s.readMarked(s.roomOpened(other, '11'), '11', '161').rooms['11'].mentions, 0, 'read here: cleared')
  t.equal(s.reduce(state, message('162', '10', bob, { mentions: ['1'] })).rooms['10'].mentions, 0, 'not while reading the open room')
  t.ok(s.mentionsMe(state, message('163', '10', bob, { mentions: ['1'] })), 'highlighted')
  t.notOk(s.mentionsMe(state, message('164', '10', bob, { text: 'hi @alice' })), 'the server decides, not the text')
  t.notOk(s.mentionsMe(state, message('165', '10', me, { mentions: ['1'] })), 'not our own message')
  const edited = s.reduce(state, { id: '166', type: 'message.edited', roomId: '11', messageId: '101', text: '@alice', mentions: ['1'], user: bob, createdAt: at })
  t.equal(edited.roomsStale, state.roomsStale + 1, 'an edit naming us elsewhere: the server recounts')
  const deleted = s.reduce(named, { id: '167', type: 'message.deleted', roomId: '11', messageId: '160', user: bob, createdAt: at })
  t.equal(deleted.roomsStale, named.roomsStale + 1, 'a deleted mention: the server recounts')
  t.same(s.roomsLoaded(state, [{ id: '12', name: 'x', kind: 'channel', unread: 2, mentions: 1 }]).rooms['12'].mentions, 1, 'the room list gives the count')
})

t.test('kicked: our window drops the room and says who did it', async t => {
  const state = start()
  const kick = { id: '170', type: 'member.left', roomId: '10', user: me, target: me, by: bob, createdAt: at }
  const kicked = s.reduce(state, kick)
  t.notOk('10' in kicked.rooms, 'the room is gone from the list at once')
  t.same(kicked.notice, { id: '170', text: 'You were removed from #general by Bob (@bob).' })
  t.equal(s.reduce(kicked, kick), kicked, 'again: nothing')
  const other = s.reduce(state, { id: '171', type: 'member.left', roomId: '10', user: bob, target: bob, by: me, createdAt: at })
  t.ok('10' in other.rooms, 'someone else kicked: the room stays')
  t.equal(other.membersStale, state.membersStale + 1, 'and its members are fetched again')
  t.equal(other.notice, null)
})

t.test('member.banned and member.unbanned', async t => {
  const state = start()
  const banned = s.reduce(state, { id: '172', type: 'member.banned', roomId: '11', user: bob, target: me, by: bob, createdAt: at })
  t.notOk('11' in banned.rooms, 'banned: the room goes')
  t.match(banned.notice.text, /You were banned from #random by Bob/)
  const left = s.reduce(banned, { id: '173', type: 'member.left', roomId: '11', user: me, target: me, by: bob, createdAt: at })
  t.equal(left, banned, 'the leave that follows the ban changes nothing more')
  for (const type of ['member.banned', 'member.unbanned']) {
    const other = s.reduce(state, { id: '174', type, roomId: '10', user: me, target: bob, by: me, createdAt: at })
    t.equal(other.bansStale, state.bansStale + 1, `${type} in the open room: the ban list again`)
    t.equal(other.membersStale, state.membersStale + 1)
    t.equal(s.reduce(state, { id: '175', type, roomId: '11', user: me, target: bob, by: me, createdAt: at }), state, `${type} elsewhere: nothing`)
  }
})

t.test('a moderator deletes someone\'s message', async t => {
  const state = start()
  const deleted = s.reduce(state, { id: '176', type: 'message.deleted', roomId: '10', messageId: '100', user: me, by: me, createdAt: at })
  t.same(deleted.messages, [], 'gone from the open room')
})

t.test('room.archived tells the reader', async t => {
  const archived = s.reduce(start(), { id: '177', type: 'room.archived', roomId: '11', user: bob, createdAt: at })
  t.same(archived.notice, { id: '177', text: '#random was archived.' })
})

t.test('roles: who may moderate the open room', async t => {
  const state = start()
  t.equal(s.myRole(state), 'member', 'a member until the member list says more')
  t.notOk(s.mayAct(state, 'moderator'))
  const mod = s.membersLoaded(state, '10', [{ ...me, role: 'moderator', online: true }, { ...bob, role: 'owner', online: true }])
  t.equal(s.myRole(mod), 'moderator')
  t.ok(s.mayAct(mod, 'moderator'))
  t.notOk(s.mayAct(mod, 'owner'), 'a moderator does not archive or name moderators')
  const owner = s.reduce(state, { id: '178', type: 'member.role', roomId: '10', user: bob, target: me, role: 'moderator', createdAt: at })
  t.equal(s.myRole(owner), 'moderator', 'a role event counts before the member list comes')
  const admin = s.adminKnown(state, true)
  t.ok(s.mayAct(admin, 'owner'), 'administrators act as owners')
  t.equal(s.adminKnown(admin, true), admin)
  const direct = s.roomOpened(s.roomsLoaded(admin, [{ id: '20', name: null, kind: 'direct', unread: 0 }]), '20')
  t.equal(s.myRole(direct), null, 'nobody moderates a direct room')
  t.notOk(s.mayAct(direct, 'moderator'))
})

t.test('mute and the title count', async t => {
  const state = s.reduce(s.reduce(start(), message('180', '11')), message('181', '11', bob, { mentions: ['1'] }))
  t.equal(s.totalUnread(state), 2)
  const muted = s.mutedLoaded(state, { 11: true })
  t.equal(s.totalUnread(muted), 0, 'a muted room does not count in the title')
  t.equal(muted.rooms['11'].unread, 2, 'its own count stays in the list')
  t.equal(s.notificationFor(muted, message('182', '11', bob, { mentions: ['1'] })), null, 'nor notifies')
})

t.test('which messages notify', async t => {
  let state = start()
  state = s.roomsLoaded(state, [...Object.values(state.rooms), { id: '20', name: 'bob', kind: 'direct', unread: 0, lastEventId: '50' }])
  const mention = s.notificationFor(state, message('190', '11', bob, { text: 'hey @alice', mentions: ['1'] }))
  t.same(mention, { roomId: '11', title: 'Bob (@bob) in #random', body: 'hey @alice', tag: 'chat-190' })
  t.ok(s.notificationFor(state, message('191', '20')), 'a direct message')
  t.equal(s.notificationFor(state, message('192', '11')), null, 'a plain channel message does not')
  t.equal(s.notificationFor(state, message('193', '20', me)), null, 'nor our own')
  t.equal(s.notificationFor(state, message('40', '20')), null, 'nor one seen before')
  t.equal(s.notificationFor(state, { id: '194', type: 'typing', roomId: '20', user: bob }), null)
})

t.test('the first direct message from someone new notifies', async t => {
  const state = start()
  const opened = [
    { id: '195', type: 'member.joined', roomId: '21', user: bob, createdAt: at },
    { id: '196', type: 'member.joined', roomId: '21', user: me, createdAt: at },
    { id: '197', type: 'room.created', roomId: '21', user: bob, room: { id: '21', name: null, kind: 'direct', visibility: 'private' }, createdAt: at }
  ]
  // As the leader applies a batch: each event decided with the state from before it.
  let next = state
  for (const ev of opened) next = s.reduce(next, ev)
  const first = message('198', '21', bob, { text: 'hi alice' })
  t.same(s.notificationFor(next, first), { roomId: '21', title: 'Bob (@bob)', body: 'hi alice', tag: 'chat-198' }, 'the room is known before its first message')
  t.equal(s.roomLabel(next, next.rooms['21']), '@bob', 'listed under the other person\'s name')
  t.ok(next.roomsStale > state.roomsStale, 'the room list is fetched all the same')
  const after = s.reduce(next, first)
  t.equal(after.rooms['21'].unread, 1, 'and counts as unread')
  t.equal(s.notificationFor(after, first), null, 'once')
  t.equal(s.reduce(after, opened[2]!).rooms['21'], after.rooms['21'], 'a repeated room.created changes nothing')

  const mine = s.reduce(state, { ...opened[2], user: me })
  t.notOk(mine.rooms['21'], 'a direct room we opened comes with the room list (we asked for it)')
  const channel = s.reduce(state, { ...opened[2], room: { id: '21', name: 'new', kind: 'channel', visibility: 'public' } })
  t.notOk(channel.rooms['21'], 'a channel waits for the room list')
})

t.test('away follows the input of every tab', async t => {
  const state = start()
  t.equal(state.away, false)
  const away = s.awayChanged(state, true)
  t.equal(away.away, true)
  t.equal(s.awayChanged(away, true), away)
  t.equal(s.memberPresence(away, { ...me, online: true, away: false }), 'away', 'our own at once, before the server hears')
  t.equal(s.memberPresence(state, { ...me, online: true, away: true }), 'online', 'and back at once')
  t.equal(s.memberPresence(state, { ...bob, online: true, away: true }), 'away', 'others as the server says')
  t.equal(s.memberPresence(state, { ...bob, online: true, away: false }), 'online')
  t.equal(s.memberPresence(state, { ...bob, online: false, away: true }), 'offline')
  t.equal(s.memberPresence(state, { ...bob, online: true }), 'online', 'a server without away')
})

t.test('unknown events and junk change nothing', async t => {
  const state = start()
  t.equal(s.reduce(state, { id: '140', type: 'something.new', roomId: '10' }), state)
  t.equal(s.reduce(state, null as unknown as object), state)
})

t.test('the page\'s own updates', async t => {
  let state = start()
  state = s.olderLoaded(state, '10', [message('090', '10'), message('095', '10')], true)
  t.same(state.messages.map((m: any) => m.id), ['090', '095', '100'])
  t.equal(state.hasMore, true)
  state = s.latestLoaded(state, '10', [message('095', '10'), message('102', '10')], false)
  t.same(state.messages.map((m: any) => m.id), ['090', '095', '102'], 'a message missing from a fresh page was deleted')
  t.equal(state.hasMore, true, 'older messages kept: still more to load')
  t.equal(s.unsentRead(state), '102')
  state = s.readMarked(state, '10', '102')
  t.equal(s.unsentRead(state), null, 'told once')
  state = s.pendingAdded(state, { clientId: 'x', roomId: '10', text: 'hi', state: 'sending' })
  state = s.messageSent(state, 'x', message('103', '10', me, { clientId: 'x' }))
  t.same(state.outbox, [])
  t.equal(state.rooms['10'].lastEventId, '103')
})

const picture = { id: '7', name: 'cat.png', size: 2048, contentType: 'image/png', url: 'api/files/7/cat.png', width: 40, height: 30 }

t.test('messages with attachments', async t => {
  let state = s.reduce(start(), message('102', '10', bob, { text: '', attachments: [picture] }))
  t.same(state.messages[1].attachments, [picture], 'the files come with the message')
  state = s.reduce(state, { id: '103', type: 'message.edited', roomId: '10', messageId: '102', text: 'a cat', user: bob, createdAt: at })
  t.same(state.messages[1].attachments, [picture], 'an edit of the caption keeps the files')
  t.equal(state.messages[1].text, 'a cat')
})

t.test('uploads: progress, failure, and the stored message', async t => {
  let state = s.uploadAdded(start(), { clientId: 'u1', roomId: '10', names: ['cat.png'], loaded: 0, total: 2048, state: 'uploading', error: '' })
  state = s.uploadChanged(state, 'u1', { loaded: 1024 })
  t.equal(state.uploads[0].loaded, 1024)
  t.equal(s.uploadChanged(state, 'nope', { loaded: 1 }), state, 'an unknown upload changes nothing')
  state = s.uploadSent(state, 'u1', message('102', '10', me, { clientId: 'u1', text: '', attachments: [picture] }))
  t.same(state.uploads, [], 'done uploading')
  t.same(state.messages.map((m: any) => m.id), ['100', '102'], 'the message is in the log')
  t.equal(state.rooms['10'].lastEventId, '102')
  t.same(s.reduce(state, message('102', '10', me, { clientId: 'u1', attachments: [picture] })).messages.length, 2, 'the poll\'s copy is not shown twice')
})

t.test('a jump to an older message: a window around it, read forward to the newest', async t => {
  let state = s.reduce(start(), message('105', '11'))
  state = s.jumpStarted(state, '11', '050', ['deploy'])
  t.equal(state.roomId, '11')
  t.equal(state.history, 'loading')
  t.same(state.focus, { id: '050', words: ['deploy'] })
  t.same(s.reduce(state, message('106', '11')).messages, [], 'no poll message starts a window while the pages load')
  state = s.aroundLoaded(state, '11', { events: [message('040', '11'), message('050', '11')], hasMore: true },
    { events: [message('060', '11')], hasMore: true })
  t.same(state.messages.map((m: any) => m.id), ['040', '050', '060'])
  t.equal(state.hasMore, true, 'older pages to load')
  t.equal(state.newer, true, 'newer pages to load')
  state = s.observed(state, { now: 2000, reading: true })
  const polled = s.reduce(state, message('107', '11'))
  t.same(polled.messages.map((m: any) => m.id), ['040', '050', '060'], 'a new message does not join the window after a gap')
  t.equal(polled.rooms['11'].unread, state.rooms['11'].unread + 1, 'and it is unread: the reader is not at the newest')
  t.equal(s.unsentRead(state), null, 'nothing is marked read from an old window')
  state = s.newerLoaded(state, '11', [message('070', '11')], false)
  t.same(state.messages.map((m: any) => m.id), ['040', '050', '060', '070'])
  t.equal(state.newer, false, 'the window reached the newest')
  t.same(s.reduce(state, message('108', '11')).messages.map((m: any) => m.id), ['040', '050', '060', '070', '108'], 'now new messages join')
  t.same(state.focus, { id: '050', words: ['deploy'] }, 'the message stays marked')
  t.same(s.roomOpened(state, '10').focus, null, 'until another room opens')
})

t.test('a jump to a message on screen only marks it; the newest page replaces an old window', async t => {
  const state = start()
  const marked = s.jumpStarted(state, '10', '100', ['text'])
  t.equal(marked.messages, state.messages, 'nothing to load')
  t.same(marked.focus, { id: '100', words: ['text'] })
  let old = s.jumpStarted(state, '10', '020', ['x'])
  old = s.aroundLoaded(old, '10', { events: [message('020', '10')], hasMore: false }, { events: [message('030', '10')], hasMore: true })
  const latest = s.latestLoaded(old, '10', [message('100', '10'), message('101', '10')], true)
  t.same(latest.messages.map((m: any) => m.id), ['100', '101'], 'no gap between 030 and 100')
  t.equal(latest.newer, false)
  t.equal(latest.hasMore, true)
  const sent = s.messageSent(old, 'c', message('102', '10', me, { clientId: 'c' }))
  t.same(sent.messages.map((m: any) => m.id), ['020', '030'], 'our own message waits for the newest page too')
  const back = s.backToLatest(old)
  t.same([back.messages, back.newer, back.focus, back.history], [[], false, null, 'loading'], 'sending from an old window goes back to the newest')
  t.same(s.messageSent(back, 'c', message('102', '10', me, { clientId: 'c' })).messages.map((m: any) => m.id), ['102'])
  t.equal(s.backToLatest(state), state, 'already there')
})

t.test('search: results for the current query only, pages appended', async t => {
  let state = s.searchStarted(start(), 'Deploy  done ')
  t.same(state.search.words, ['Deploy', 'done'], 'the words to mark')
  t.equal(state.search.status, 'loading')
  t.equal(s.searchLoaded(state, 'older query', [message('1', '10')], false), state, 'a late answer to another query is dropped')
  state = s.searchLoaded(state, 'Deploy  done ', [message('090', '10'), message('080', '11')], true)
  t.equal(state.search.status, 'ready')
  t.equal(state.search.hasMore, true)
  state = s.searchLoaded(state, 'Deploy  done ', [message('080', '11'), message('070', '10')], false, true)
  t.same(state.search.events.map((e: any) => e.id), ['090', '080', '070'], 'the next page is appended once')
  t.equal(s.searchFailed(state, 'Deploy  done ').search.status, 'failed')
  t.equal(s.searchClosed(state).search, null)
})

t.test('names carry the @username when the display name differs', async t => {
  t.equal(s.nameWithHandle(eve), 'alice (@eve)', 'eve cannot pass for alice')
  t.equal(s.nameWithHandle({ id: '4', username: 'carol', displayName: null }), 'carol')
  t.equal(s.nameWithHandle({ id: '4', username: 'carol', displayName: 'carol' }), 'carol')
})

t.test('the store tells subscribers about changes only', async t => {
  const store = new s.Store(start())
  const seen: State[] = []
  const stop = store.subscribe(next => { seen.push(next) })
  store.update(s.reduce, message('150', '10'))
  store.update(s.reduce, { type: 'nothing' })
  t.equal(seen.length, 1)
  t.equal(seen[0], store.get())
  stop()
  store.update(s.reduce, message('151', '10'))
  t.equal(seen.length, 1, 'unsubscribed')
})
