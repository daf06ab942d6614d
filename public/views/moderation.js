/* global setTimeout */
import { api } from '../api.js'
import { h, openDialog, errorText, displayName, timeEl } from '../ui.js'

// The "Manage room" dialog, for a channel's moderators and owner (and the
// site's administrators, who act as owners): the room's name, topic and
// visibility; kick, ban and unban; naming moderators and archiving (owner).
// The server checks every action again; this only leaves out the controls a
// role cannot use. Every change is an event, so the rest of the page follows
// through the poll like every other open window.

const RANK = { member: 1, moderator: 2, owner: 3 }

/**
 * @param {object} host
 * @param {{id: string, name: string, topic?: string|null, visibility: string}} host.room
 * @param {{id: string}} host.me
 * @param {boolean} host.owner our rank is the owner's (or an administrator's)
 * @param {string} host.label
 * @param {(text: string) => void} host.flash
 * @param {() => Promise<void>} host.roomsChanged
 * @returns {() => void} fetches the lists again while the dialog is open (another moderator acted)
 */
export function openModeration (host) {
  let reload = () => {}
  const dialog = openDialog(`Manage ${host.label}`, (close) => {
    const error = h('p', { class: 'form-error', 'aria-live': 'assertive' })
    const members = h('ul', { class: 'manage-list', 'aria-label': 'Members' })
    const bans = h('ul', { class: 'manage-list', 'aria-label': 'Banned users' })
    const act = async (what, fn) => {
      error.textContent = ''
      try {
        await fn()
        if (what) host.flash(what)
        await refresh()
      } catch (err) {
        error.textContent = errorText(err)
      }
    }
    const refresh = async () => {
      const [m, b] = await Promise.all([api.members(host.room.id), api.bans(host.room.id)])
      members.replaceChildren(...m.members.map(member => memberRow(member, host, act)))
      bans.replaceChildren(...b.bans.map(ban => banRow(ban, host, act)))
      if (!b.bans.length) bans.append(h('li', { class: 'muted' }, 'Nobody is banned.'))
    }
    reload = () => { refresh().catch(err => { error.textContent = errorText(err) }) }
    reload()
    return h('div', { class: 'stack manage' },
      settingsForm(host, act),
      h('section', { class: 'stack' }, h('h3', {}, 'Members'), members),
      h('section', { class: 'stack' }, h('h3', {}, 'Banned'), banForm(host, act), bans),
      host.owner ? archiveSection(host, close) : null,
      error)
  })
  return () => { if (dialog.open) reload() }
}

function settingsForm (host, act) {
  const { room } = host
  const name = h('input', { id: 'manage-name', required: true, maxlength: '64', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' })
  const topic = h('input', { id: 'manage-topic', maxlength: '250', autocomplete: 'off' })
  const visibility = h('select', { id: 'manage-visibility' },
    h('option', { value: 'public' }, 'Public: anyone can find and join it'),
    h('option', { value: 'private' }, 'Private: members add people'))
  name.value = room.name || ''
  topic.value = room.topic || ''
  visibility.value = room.visibility
  const form = h('form', { class: 'stack' },
    h('h3', {}, 'Room'),
    h('div', { class: 'field' }, h('label', { for: 'manage-name' }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: 'manage-topic' }, 'Topic'), topic),
    h('div', { class: 'field' }, h('label', { for: 'manage-visibility' }, 'Who can join'), visibility),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save room')))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const change = {}
    if (name.value.trim() !== (room.name || '')) change.name = name.value.trim()
    if (topic.value !== (room.topic || '')) change.topic = topic.value
    if (visibility.value !== room.visibility) change.visibility = visibility.value
    if (!Object.keys(change).length) return
    act('The room was saved.', async () => {
      const { room: saved } = await api.updateRoom(room.id, change)
      Object.assign(room, saved)
    })
  })
  return form
}

function memberRow (member, host, act) {
  const mine = host.owner ? RANK.owner : RANK.moderator
  const theirs = RANK[member.role] || RANK.member
  const who = displayName(member)
  const buttons = []
  const me = member.id === host.me.id
  if (!me && host.owner && member.role !== 'owner') {
    const next = member.role === 'moderator' ? 'member' : 'moderator'
    buttons.push(h('button', {
      type: 'button',
      class: 'small',
      'aria-label': next === 'moderator' ? `Make ${member.username} a moderator` : `Make ${member.username} a member`,
      onclick: () => act(`${who} is now a ${next}.`, () => api.setRole(host.room.id, member.username, next))
    }, next === 'moderator' ? 'Make moderator' : 'Make member'))
  }
  if (!me && theirs < mine) {
    buttons.push(
      h('button', { type: 'button', class: 'small', 'aria-label': `Kick ${member.username}`, onclick: () => act(`${who} was removed.`, () => api.kick(host.room.id, member.username)) }, 'Kick'),
      h('button', { type: 'button', class: 'small danger', 'aria-label': `Ban ${member.username}`, onclick: () => act(`${who} was banned.`, () => api.ban(host.room.id, member.username)) }, 'Ban'))
  }
  return h('li', {},
    h('span', { class: 'member-name' }, who),
    h('span', { class: 'muted' }, ' @' + member.username),
    member.role !== 'member' ? h('span', { class: 'tag' }, member.role) : null,
    h('span', { class: 'row-actions' }, ...buttons))
}

function banForm (host, act) {
  const input = h('input', { id: 'manage-ban-name', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true })
  const form = h('form', { class: 'row' }, h('label', { for: 'manage-ban-name', class: 'sr-only' }, 'Username to ban'), input,
    h('button', { type: 'submit', class: 'small' }, 'Ban user'))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const name = input.value.trim()
    if (name) act(`${name} was banned.`, async () => { await api.ban(host.room.id, name); input.value = '' })
  })
  return form
}

function banRow (ban, host, act) {
  return h('li', {},
    h('span', { class: 'member-name' }, displayName(ban.user)),
    h('span', { class: 'muted' }, ` @${ban.user.username}, by ${displayName(ban.by)} `), timeEl(ban.createdAt),
    h('span', { class: 'row-actions' },
      h('button', {
        type: 'button',
        class: 'small',
        'aria-label': `Unban ${ban.user.username}`,
        onclick: () => act(`${displayName(ban.user)} may come back.`, () => api.unban(host.room.id, ban.user.username))
      }, 'Unban')))
}

function archiveSection (host, close) {
  const note = h('p', { class: 'form-error', 'aria-live': 'assertive' })
  const button = h('button', { type: 'button', class: 'danger' }, 'Archive room')
  button.addEventListener('click', async () => {
    // Two steps, without a blocking confirm(): archiving cannot be undone from here.
    if (button.dataset.armed !== '1') {
      button.dataset.armed = '1'
      button.textContent = 'Confirm archive'
      setTimeout(() => { if (button.isConnected) { button.dataset.armed = ''; button.textContent = 'Archive room' } }, 4000)
      return
    }
    try {
      await api.archiveRoom(host.room.id)
      close()
      await host.roomsChanged()
    } catch (err) {
      note.textContent = errorText(err)
    }
  })
  return h('section', { class: 'stack' },
    h('h3', {}, 'Archive'),
    h('p', { class: 'hint' }, 'The room becomes read-only and leaves every list; its history stays readable to its members.'),
    button, note)
}
