/* global location, navigator, Notification, URL */
import { api, ApiError } from './api.js'
import { h, openDialog, errorText, timeEl } from './ui.js'

// The modal forms: new room, browse channels, direct chat, account (password,
// API tokens, sessions, notifications). Each is built when opened and removed
// when closed. They act on the page only through `app`, the small interface
// chat.js hands them: {me, roomName(), roomsChanged(), goTo(roomId), signedOut(notice)}.

function formError () {
  return h('p', { class: 'form-error', 'aria-live': 'assertive' })
}

function busy (form, on) {
  for (const el of form.querySelectorAll('button, input, select, textarea')) el.disabled = on
}

export function openNewRoom (app) {
  openDialog('New room', (close) => {
    const name = h('input', { id: 'new-room-name', required: true, maxlength: '64', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', pattern: '[a-z0-9_\\-]*[a-z_\\-][a-z0-9_\\-]*', 'aria-describedby': 'new-room-hint' })
    const pub = h('input', { type: 'radio', name: 'visibility', value: 'public', id: 'vis-public', checked: true })
    const priv = h('input', { type: 'radio', name: 'visibility', value: 'private', id: 'vis-private' })
    const error = formError()
    const form = h('form', { class: 'stack' },
      h('div', { class: 'field' },
        h('label', { for: 'new-room-name' }, 'Room name'), name,
        h('p', { id: 'new-room-hint', class: 'hint' }, 'Lower-case letters, digits, - and _.')),
      h('fieldset', {},
        h('legend', {}, 'Who can join'),
        h('div', { class: 'choice' }, pub, h('label', { for: 'vis-public' }, 'Public: anyone can find and join it')),
        h('div', { class: 'choice' }, priv, h('label', { for: 'vis-private' }, 'Private: members add people'))),
      error,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Create'),
        h('button', { type: 'button', onclick: close }, 'Cancel')))
    name.addEventListener('input', () => { name.value = name.value.toLowerCase() })
    form.addEventListener('submit', async (e) => {
      e.preventDefault()
      const value = name.value.trim()
      if (!value) { error.textContent = 'Give the room a name.'; return }
      busy(form, true)
      try {
        const { room } = await api.createRoom(value, priv.checked ? 'private' : 'public')
        await app.roomsChanged()
        close()
        app.goTo(room.id)
      } catch (err) {
        busy(form, false)
        error.textContent = err instanceof ApiError && err.code === 'room_exists'
          ? 'A room with that name exists already.'
          : errorText(err)
        name.focus()
      }
    })
    return form
  })
}

export function openBrowse (app) {
  openDialog('Public channels', (close) => {
    const list = h('ul', { class: 'browse-list' }, h('li', { class: 'muted' }, 'Loading…'))
    const error = formError()
    const load = async () => {
      try {
        const { rooms } = await api.publicRooms()
        rooms.sort((a, b) => a.name.localeCompare(b.name))
        list.replaceChildren(...rooms.map(room => h('li', {},
          h('span', { class: 'room-name' }, '#' + room.name),
          h('span', { class: 'muted' }, ` ${room.memberCount} ${room.memberCount === 1 ? 'member' : 'members'}`),
          room.joined
            ? h('button', { type: 'button', class: 'small', 'aria-label': `Open #${room.name}`, onclick: () => { close(); app.goTo(room.id) } }, 'Open')
            : h('button', {
              type: 'button',
              class: 'small primary',
              'aria-label': `Join #${room.name}`,
              onclick: async (e) => {
                e.currentTarget.disabled = true
                try {
                  const res = await api.joinRoom(room.id)
                  await app.roomsChanged()
                  close()
                  app.goTo((res && res.room && res.room.id) || room.id)
                } catch (err) {
                  error.textContent = errorText(err)
                  load()
                }
              }
            }, 'Join'))))
        if (!rooms.length) list.append(h('li', { class: 'muted' }, 'No public channels yet.'))
      } catch (err) {
        error.textContent = errorText(err)
      }
    }
    load()
    return h('div', { class: 'stack' }, list, error)
  })
}

export function openDirect (app) {
  openDialog('Direct chat', (close) => {
    const who = h('input', { id: 'direct-who', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '32' })
    const error = formError()
    const form = h('form', { class: 'stack' },
      h('div', { class: 'field' }, h('label', { for: 'direct-who' }, 'Chat with'), who,
        h('p', { class: 'hint' }, 'The person’s sign-in name.')),
      error,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Start chat'),
        h('button', { type: 'button', onclick: close }, 'Cancel')))
    form.addEventListener('submit', async (e) => {
      e.preventDefault()
      const name = who.value.trim()
      if (!name) { error.textContent = 'Whom do you want to talk to?'; return }
      busy(form, true)
      try {
        const { room } = await api.direct(name)
        await app.roomsChanged()
        close()
        app.goTo(room.id)
      } catch (err) {
        busy(form, false)
        error.textContent = err instanceof ApiError && err.status === 404 ? `There is nobody called ${name}.` : errorText(err)
        who.focus()
      }
    })
    return form
  })
}

/** The base URL of this app (with its BASE_PATH, without the trailing slash) for curl. */
function appUrl () {
  return new URL('.', location.href).href.replace(/\/$/, '')
}

function shellQuote (s) {
  return "'" + String(s).replace(/'/g, "'\\''") + "'"
}

export function curlCommand (token, roomName) {
  return `curl -H ${shellQuote('Authorization: Bearer ' + token)} -H 'Content-Type: text/plain' --data-binary 'hello' ${appUrl()}/api/rooms/${encodeURIComponent(roomName)}/messages`
}

export function openAccount (app) {
  openDialog('Account', (close) => {
    const body = h('div', { class: 'stack account' },
      h('p', {}, 'Signed in as ', h('strong', {}, app.me.username),
        app.me.displayName && app.me.displayName !== app.me.username ? ` (${app.me.displayName})` : ''),
      passwordSection(),
      tokensSection(app),
      notificationsSection(),
      sessionsSection(app, close))
    return body
  })
}

function passwordSection () {
  const current = h('input', { id: 'pw-current', type: 'password', autocomplete: 'current-password', required: true })
  const next = h('input', { id: 'pw-new', type: 'password', autocomplete: 'new-password', required: true, minlength: '8' })
  const note = formError()
  const form = h('form', { class: 'stack' },
    h('h3', {}, 'Change password'),
    h('div', { class: 'field' }, h('label', { for: 'pw-current' }, 'Current password'), current),
    h('div', { class: 'field' }, h('label', { for: 'pw-new' }, 'New password'), next),
    h('p', { class: 'hint' }, 'Changing it signs out your other sessions and ends every API token: scripts need a new one.'),
    note,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Change password')))
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    if ([...next.value].length < 8) { note.textContent = 'The new password needs at least 8 characters.'; return }
    busy(form, true)
    try {
      await api.changePassword(current.value, next.value)
      current.value = ''
      next.value = ''
      note.textContent = 'Password changed. Your other sessions have been signed out and your API tokens ended.'
    } catch (err) {
      note.textContent = err instanceof ApiError && err.code === 'bad_credentials'
        ? 'The current password is wrong.'
        : errorText(err)
    } finally {
      busy(form, false)
    }
  })
  return form
}

function tokensSection (app) {
  const list = h('ul', { class: 'token-list' })
  const name = h('input', { id: 'token-name', required: true, maxlength: '64', autocomplete: 'off' })
  const note = formError()
  const fresh = h('div', { class: 'new-token', hidden: true })
  const load = async () => {
    try {
      const { tokens } = await api.tokens()
      list.replaceChildren(...tokens.map(t => h('li', {},
        h('span', { class: 'token-name' }, t.name),
        h('span', { class: 'muted' }, ' created ', timeEl(t.createdAt),
          t.lastUsedAt ? [', last used ', timeEl(t.lastUsedAt)] : ', never used'),
        h('button', {
          type: 'button',
          class: 'small',
          'aria-label': `Revoke token ${t.name}`,
          onclick: async () => {
            try {
              await api.deleteToken(t.id)
              fresh.hidden = true
              load()
            } catch (err) { note.textContent = errorText(err) }
          }
        }, 'Revoke'))))
      if (!tokens.length) list.append(h('li', { class: 'muted' }, 'No tokens.'))
    } catch (err) {
      note.textContent = errorText(err)
    }
  }
  const password = h('input', { id: 'token-password', type: 'password', autocomplete: 'current-password', required: true })
  // novalidate: the form's own messages say what is missing, in the dialog.
  const form = h('form', { class: 'stack', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'token-name' }, 'Token name'), name),
    h('div', { class: 'field' }, h('label', { for: 'token-password' }, 'Your password'), password),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create token')))
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    if (!name.value.trim()) { note.textContent = 'Name the token after the script that will use it.'; return }
    if (!password.value) { note.textContent = 'Enter your password to make a token.'; password.focus(); return }
    note.textContent = ''
    try {
      const created = await api.createToken(name.value.trim(), password.value)
      name.value = ''
      password.value = ''
      const roomName = app.roomName() || 'general'
      const command = curlCommand(created.token, roomName)
      const copy = (text, button) => {
        if (!navigator.clipboard) return
        navigator.clipboard.writeText(text).then(() => { button.textContent = 'Copied' }, () => {})
      }
      fresh.replaceChildren(
        h('p', {}, 'Copy the token now: it is shown only once.'),
        h('code', { class: 'token' }, created.token),
        h('p', {}, 'Send a message from a script:'),
        h('pre', { class: 'curl' }, h('code', {}, command)),
        h('div', { class: 'row' },
          h('button', { type: 'button', class: 'small', onclick: (ev) => copy(created.token, ev.currentTarget) }, 'Copy token'),
          h('button', { type: 'button', class: 'small', onclick: (ev) => copy(command, ev.currentTarget) }, 'Copy command')))
      fresh.hidden = false
      load()
    } catch (err) {
      if (err instanceof ApiError && err.code === 'bad_credentials') {
        note.textContent = 'That password is wrong: no token was made.'
        password.value = ''
        password.focus()
      } else {
        note.textContent = errorText(err)
      }
    }
  })
  load()
  return h('section', { class: 'stack' },
    h('h3', {}, 'API tokens'),
    h('p', { class: 'hint' }, 'Scripts use a token instead of your password. Every token ends when the password changes or all sessions are ended.'),
    form, note, fresh, list)
}

function notificationsSection () {
  const section = h('section', { class: 'stack' }, h('h3', {}, 'Notifications'))
  const text = h('p', { class: 'hint' })
  const render = () => {
    section.replaceChildren(section.firstChild, text)
    if (typeof Notification !== 'function') {
      text.textContent = 'This browser cannot show notifications.'
    } else if (Notification.permission === 'granted') {
      text.textContent = 'Direct messages and mentions of you show a notification while this page is in the background.'
    } else if (Notification.permission === 'denied') {
      text.textContent = 'Notifications are blocked in the browser settings for this site.'
    } else {
      text.textContent = 'Get a notification for direct messages and mentions of you while this page is in the background.'
      section.append(h('button', {
        type: 'button',
        onclick: () => { Notification.requestPermission().then(render, render) }
      }, 'Enable notifications'))
    }
  }
  render()
  return section
}

function sessionsSection (app, close) {
  return h('section', { class: 'stack' },
    h('h3', {}, 'Sessions'),
    h('p', { class: 'hint' }, 'Signs you out on every device and browser, this one included, and ends every API token: scripts need a new one.'),
    h('div', { class: 'actions' },
      h('button', {
        type: 'button',
        class: 'danger',
        onclick: async (e) => {
          // Two steps: the first click says again what will end.
          const button = e.currentTarget
          if (button.dataset.armed !== '1') {
            button.dataset.armed = '1'
            button.textContent = 'Confirm: end every session and token'
            return
          }
          try {
            await api.revokeSessions()
          } catch (err) {
            if (!(err instanceof ApiError && err.status === 401)) return
          }
          close()
          app.signedOut('You were signed out everywhere.')
        }
      }, 'End all sessions')))
}
