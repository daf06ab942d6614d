import { api } from '../api.js'
import { h, openDialog, errorText, displayName, timeEl } from '../ui.js'

// The site's administration, for administrators only (the server refuses the
// routes to anyone else): invitation codes with their shareable link, and the
// accounts, which can be disabled (every session ends at once) and enabled.

/**
 * @param {object} host
 * @param {{id: string}} host.me
 * @param {(text: string) => void} host.flash
 */
export function openAdmin (host) {
  openDialog('Administration', () => h('div', { class: 'stack admin' }, invitesSection(), usersSection(host)))
}

function invitesSection () {
  const uses = h('input', { id: 'invite-uses', type: 'number', min: '1', max: '10000', value: '1', required: true })
  const days = h('input', { id: 'invite-days', type: 'number', min: '1', max: '365', value: '7', required: true })
  const error = h('p', { class: 'form-error', 'aria-live': 'assertive' })
  const made = h('div', { class: 'stack', 'aria-live': 'polite' })
  const list = h('ul', { class: 'manage-list', 'aria-label': 'Invitations' })
  const form = h('form', { class: 'stack' },
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'invite-uses' }, 'Uses'), uses),
      h('div', { class: 'field' }, h('label', { for: 'invite-days' }, 'Valid for (days)'), days)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Make invitation')))
  const load = async () => {
    const { invites } = await api.invites()
    list.replaceChildren(...invites.map(invite => h('li', {},
      h('code', {}, invite.code),
      h('span', { class: 'muted' }, ` ${invite.usesLeft} left, by ${displayName(invite.createdBy)}, until `), timeEl(invite.expiresAt),
      h('span', { class: 'row-actions' }, h('button', {
        type: 'button',
        class: 'small',
        'aria-label': `Delete invitation ${invite.code}`,
        onclick: () => api.deleteInvite(invite.code).then(load, err => { error.textContent = errorText(err) })
      }, 'Delete')))))
    if (!invites.length) list.append(h('li', { class: 'muted' }, 'No open invitations.'))
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    error.textContent = ''
    try {
      const invite = await api.createInvite(Number(uses.value), Number(days.value))
      // The server builds the link from the address it was reached at: share it as it is.
      const link = h('input', { id: 'invite-link', readonly: true, value: invite.url })
      made.replaceChildren(h('div', { class: 'field' }, h('label', { for: 'invite-link' }, 'Invitation link'), link))
      link.select()
      await load()
    } catch (err) {
      error.textContent = errorText(err)
    }
  })
  load().catch(err => { error.textContent = errorText(err) })
  return h('section', { class: 'stack' }, h('h3', {}, 'Invitations'), form, made, error, list)
}

function usersSection (host) {
  const query = h('input', { id: 'admin-user-q', type: 'search', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' })
  const error = h('p', { class: 'form-error', 'aria-live': 'assertive' })
  const list = h('ul', { class: 'manage-list', 'aria-label': 'Users' })
  const more = h('button', { type: 'button', class: 'link-button', hidden: true }, 'More users')
  let next = null
  const row = (user) => {
    const li = h('li', {},
      h('span', { class: 'member-name' }, displayName(user)),
      h('span', { class: 'muted' }, ' @' + user.username),
      user.admin ? h('span', { class: 'tag' }, 'admin') : null,
      user.disabled ? h('span', { class: 'tag danger' }, 'disabled') : null,
      h('span', { class: 'muted' }, user.lastSeenAt ? ' seen ' : ' never seen'), user.lastSeenAt ? timeEl(user.lastSeenAt) : null)
    if (user.id !== host.me.id) {
      const verb = user.disabled ? 'Enable' : 'Disable'
      li.append(h('span', { class: 'row-actions' }, h('button', {
        type: 'button',
        class: 'small' + (user.disabled ? '' : ' danger'),
        'aria-label': `${verb} ${user.username}`,
        onclick: async () => {
          try {
            await (user.disabled ? api.enableUser(user.username) : api.disableUser(user.username))
            host.flash(`${user.username} was ${user.disabled ? 'enabled' : 'disabled'}.`)
            li.replaceWith(row({ ...user, disabled: !user.disabled }))
          } catch (err) {
            error.textContent = errorText(err)
          }
        }
      }, verb)))
    }
    return li
  }
  const load = async (append) => {
    error.textContent = ''
    try {
      const page = await api.users(query.value.trim(), append ? next : null)
      next = page.next
      if (append) list.append(...page.users.map(row))
      else list.replaceChildren(...page.users.map(row))
      more.hidden = next === null
    } catch (err) {
      error.textContent = errorText(err)
    }
  }
  const form = h('form', { class: 'row', role: 'search' },
    h('label', { for: 'admin-user-q', class: 'sr-only' }, 'Find users'), query,
    h('button', { type: 'submit', class: 'small' }, 'Find'))
  form.addEventListener('submit', (e) => { e.preventDefault(); load(false) })
  more.addEventListener('click', () => load(true))
  load(false)
  return h('section', { class: 'stack' }, h('h3', {}, 'Users'), form, error, list, more)
}
