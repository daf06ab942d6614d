/* global document, window, location, setTimeout, URL */
import { api, ApiError } from './api.js'
import { TabHub } from './tabs.js'
import { h, sleep, SESSION_ENDED } from './ui.js'
import { backoffDelay } from './poll.js'
import { ChatView } from './chat.js'

// Start-up and the switch between the sign-in screen and the chat. The chat
// itself lives in chat.js; the shared long poll in tabs.js and poll.js.

const root = document.getElementById('app')
// The app's own path (`/` or `/chat/`): keeps apps under different base paths apart.
const scope = new URL('.', location.href).pathname

let view = null // the ChatView while signed in
let me = null

const hub = new TabHub(scope, {
  events: (events) => { if (view) view.applyEvents(events, hub.isLeader) },
  head: () => { if (view) view.reload() },
  status: (status) => { if (view) view.setConnection(status) },
  unauthenticated: () => showSignIn(SESSION_ENDED),
  auth: () => { recheck().catch(() => {}) }
})

/** After another tab signed in or out: follow it. */
async function recheck () {
  try {
    const { user, admin } = await api.me()
    if (!me || me.id !== user.id) signedIn(user, admin)
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showSignIn()
  }
}

/** `admin`: what api/me said, or undefined after sign-in (the chat view asks it then). */
function signedIn (user, admin) {
  if (view) view.destroy()
  me = user
  hub.setSignedIn(false) // a different user (or none before): start from a fresh head
  view = new ChatView(root, {
    me: user,
    admin,
    // Every tab judges idleness alike; the leader's polls tell the server (presence "away").
    onAway: (away) => hub.setAway(away),
    onSignedOut: (notice) => { showSignIn(notice); hub.announceAuth() },
    onSignOut: async () => {
      try { await api.logout() } catch { /* the cookie is cleared or the session is gone either way */ }
      showSignIn()
      hub.announceAuth()
    }
  })
  hub.setSignedIn(true)
  if (hub.status) view.setConnection(hub.status)
  view.reload()
}

function showSignIn (notice) {
  if (!view && root.querySelector('.signin-form')) return // already there: keep what was typed
  if (view) { view.destroy(); view = null }
  me = null
  hub.setSignedIn(false)
  document.title = 'Sign in · Chat'
  root.replaceChildren()
  const error = h('p', { class: 'form-error', 'aria-live': 'assertive' })
  const username = h('input', { id: 'signin-username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false', maxlength: '32' })
  const password = h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })
  const displayNameInput = h('input', { id: 'signin-display', name: 'displayName', autocomplete: 'nickname', maxlength: '64' })
  // An administrator's invitation link ends in ?invite=CODE: the form is filled in and open.
  const invited = new URLSearchParams(location.search).get('invite') || ''
  const inviteInput = h('input', { id: 'signin-invite', name: 'invite', autocomplete: 'off', spellcheck: 'false', maxlength: '64', value: invited })
  const form = h('form', { class: 'signin-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'signin-username' }, 'Username'), username),
    h('div', { class: 'field' }, h('label', { for: 'signin-password' }, 'Password'), password),
    h('details', { class: 'field optional', open: Boolean(invited) },
      h('summary', {}, 'New here? Optional display name and invitation'),
      h('label', { for: 'signin-display' }, 'Display name (for a new account)'), displayNameInput,
      h('label', { for: 'signin-invite' }, 'Invitation code'), inviteInput),
    error,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', value: 'login', class: 'primary' }, 'Sign in'),
      h('button', { type: 'submit', value: 'register' }, 'Create account')))
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const register = e.submitter && e.submitter.value === 'register'
    if (!username.value.trim() || !password.value) {
      error.textContent = 'Enter a username and a password.'
      return
    }
    for (const b of form.querySelectorAll('button')) b.disabled = true
    error.textContent = ''
    try {
      const { user } = register
        ? await api.register(username.value.trim(), password.value, displayNameInput.value.trim(), inviteInput.value.trim())
        : await api.login(username.value.trim(), password.value)
      signedIn(user)
      hub.announceAuth()
    } catch (err) {
      error.textContent = explainAuthError(err, register)
      for (const b of form.querySelectorAll('button')) b.disabled = false
      password.focus()
    }
  })
  root.append(h('main', { class: 'signin' },
    h('h1', {}, 'Chat'),
    notice ? h('p', { class: 'notice' }, notice) : null,
    form))
  username.focus()
}

function explainAuthError (err, register) {
  if (!(err instanceof ApiError)) return 'Something went wrong.'
  if (err.code === 'bad_credentials') return 'Wrong username or password.'
  if (err.code === 'username_taken') return 'That username is taken.'
  if (err.code === 'forbidden' && register) return 'This server takes new accounts only with a valid invitation (or not at all).'
  if (err.code === 'invalid' && err.fields) {
    const hints = { username: 'Usernames have 3-32 letters, digits, _ . or -.', password: 'Passwords have at least 8 characters.' }
    return Object.keys(err.fields).map(f => hints[f] || `${f}: ${err.fields[f]}`).join(' ')
  }
  if (err.code === 'rate_limited') return 'Too many attempts; wait a moment and try again.'
  if (err.status === 0) return 'Cannot reach the server. Check your connection.'
  return err.message
}

async function boot () {
  hub.start()
  for (let attempt = 1; ; attempt++) {
    try {
      const { user, admin } = await api.me()
      signedIn(user, admin)
      return
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        showSignIn()
        return
      }
      const wait = (err instanceof ApiError && err.retryAfter) || backoffDelay(attempt)
      root.replaceChildren(h('main', { class: 'signin' },
        h('h1', {}, 'Chat'),
        h('p', { class: 'notice', role: 'alert' }, `Cannot reach the server; trying again in ${Math.ceil(wait / 1000)} s…`)))
      await sleep(wait)
    }
  }
}

window.addEventListener('hashchange', () => { if (view) view.route() })
boot().catch(err => {
  console.error(err)
  setTimeout(() => location.reload(), 5000)
})
