import t from 'tap'
import { loadClientModule } from './load.js'

// Who sees the room settings panel (public/views/room-settings.js): decided
// from the state alone, so Node checks it without a browser.

type State = Record<string, any>
const { canManageRoom } = await loadClientModule<{ canManageRoom: (state: State) => boolean }>('views/room-settings.js')
type Update = (...args: any[]) => State
const { initialState, roomsLoaded, roomOpened, membersLoaded, reduce, adminKnown } =
  await loadClientModule<Record<'initialState' | 'roomsLoaded' | 'roomOpened' | 'membersLoaded' | 'reduce' | 'adminKnown', Update>>('state.js')

const me = { id: '1', username: 'alice', displayName: 'alice' }
const channel = { id: '10', name: 'ops', kind: 'channel', visibility: 'public', unread: 0, lastEventId: '5' }
const direct = { id: '11', name: null, kind: 'direct', visibility: 'private', unread: 0, lastEventId: '6' }

function opened (roomId: string, myRole: string | null, user = me): State {
  let state = roomOpened(roomsLoaded(initialState(user), [channel, direct]), roomId)
  if (myRole !== null) state = membersLoaded(state, roomId, [{ ...user, online: true, role: myRole }, { id: '2', username: 'bob', displayName: 'bob', online: true, role: 'member' }])
  return state
}

t.test('the owner and moderators of a channel see it; members do not', async t => {
  t.equal(canManageRoom(opened('10', 'owner')), true)
  t.equal(canManageRoom(opened('10', 'moderator')), true)
  t.equal(canManageRoom(opened('10', 'member')), false)
})

t.test('nobody before the member list says the role, and in no direct room', async t => {
  t.equal(canManageRoom(opened('10', null)), false)
  t.equal(canManageRoom(opened('11', 'member')), false)
  t.equal(canManageRoom(initialState(me)), false, 'no room open')
})

t.test('a member.role event about me counts until the list is fetched again', async t => {
  const state = reduce(opened('10', null), { id: '7', type: 'member.role', roomId: '10', user: { id: '2', username: 'bob', displayName: 'bob' }, createdAt: '2026-01-01T00:00:00Z', target: me, role: 'moderator' })
  t.equal(canManageRoom(state), true)
})

t.test('a site administrator acts as owner everywhere', async t => {
  t.equal(canManageRoom(adminKnown(opened('10', 'member'), true)), true)
  t.equal(canManageRoom(adminKnown(opened('11', 'member'), true)), false, 'a direct room has no settings')
})
