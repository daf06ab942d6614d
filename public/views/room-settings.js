/* global navigator, setInterval, clearInterval */
import { api } from '../api.js'
import { h, openDialog, errorText, timeEl } from '../ui.js'
import { mayAct } from '../state.js'

// The room settings panel, for a channel's owner and moderators (and the
// site's administrators, who act as owners): the room's incoming webhooks
// (secret URLs that post into it, Slack's format) and outgoing webhooks (its
// events POSTed, signed, to a URL), each made, shown and deleted here.
// Secrets are shown once, when made: the server keeps only what checks them.

/** Event types an outgoing webhook may take (the server's list: typing and read markers are not offered). */
const EVENT_TYPES = ['message', 'message.edited', 'message.deleted', 'member.joined', 'member.left',
  'member.role', 'room.created', 'room.updated', 'room.archived']

/** A webhook's state changes without an event (deliveries fail, retries): the open panel asks again this often. */
const REFRESH_MS = 5000

/** Whether the caller manages the open channel: its owner, a moderator, or a site administrator (state.js). */
export function canManageRoom (state) {
  return mayAct(state, 'moderator')
}

/** The room head's "Room settings" button, shown only to those who may use the panel. */
export function createRoomSettingsButton ({ onOpen }) {
  const element = h('button', { type: 'button', hidden: true, onclick: onOpen }, 'Room settings')
  function render (state) {
    const show = canManageRoom(state)
    if (element.hidden === show) element.hidden = !show
  }
  return { element, render }
}

/** Opens the panel for the room `roomId`, titled with its `label` (#name). */
export function openRoomSettings (roomId, label) {
  const sections = [incomingSection(roomId), outgoingSection(roomId)]
  const reload = () => { for (const s of sections) s.load() }
  const dialog = openDialog(`Settings of ${label}`, () => h('div', { class: 'stack account room-settings' },
    h('div', { class: 'actions' },
      h('p', { class: 'hint' }, 'Webhooks connect this room to other tools. Only its owner and moderators see them.'),
      h('button', { type: 'button', class: 'small', onclick: reload }, 'Refresh')),
    ...sections.map(s => s.element)))
  reload()
  const timer = setInterval(reload, REFRESH_MS)
  dialog.addEventListener('close', () => clearInterval(timer))
}

function formError () {
  return h('p', { class: 'form-error', 'aria-live': 'assertive' })
}

/** A read-only field with a secret shown once, and a button that copies it. */
function secretField (id, label, value) {
  const input = h('input', { id, readonly: true, value, spellcheck: 'false' })
  const copy = (e) => {
    const button = e.currentTarget
    input.select()
    if (!navigator.clipboard) return
    navigator.clipboard.writeText(value).then(() => { button.textContent = 'Copied' }, () => {})
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('div', { class: 'row' }, input, h('button', { type: 'button', class: 'small', onclick: copy }, 'Copy')))
}

/** A delete button that asks once more before it acts (other tools stop working at once). */
function deleteButton (label, action) {
  return h('button', {
    type: 'button',
    class: 'small danger',
    'aria-label': label,
    onclick: async (e) => {
      const button = e.currentTarget
      if (button.dataset.armed !== '1') {
        button.dataset.armed = '1'
        button.textContent = 'Confirm delete'
        button.setAttribute('aria-label', `Confirm: ${label}`)
        return
      }
      button.disabled = true
      await action()
    }
  }, 'Delete')
}

/**
 * A list that the panel reloads now and then: it is only rebuilt when the
 * server's answer changed, so a half-confirmed delete is not reset under the pointer.
 */
function reloadingList (label, fetchItems, renderItem, emptyText, note) {
  const list = h('ul', { class: 'token-list', 'aria-label': label })
  let shown = null
  let asked = 0
  let answered = 0
  const load = async () => {
    const mine = ++asked
    try {
      const items = await fetchItems()
      // An answer overtaken by a later one (a reload racing a create) is stale.
      if (mine < answered) return
      answered = mine
      const json = JSON.stringify(items)
      if (json === shown) return
      shown = json
      list.replaceChildren(...items.map(renderItem))
      if (!items.length) list.append(h('li', { class: 'muted' }, emptyText))
    } catch (err) {
      note.textContent = errorText(err)
    }
  }
  return { list, load }
}

/**
 * One kind of webhook: the form that makes one, where its secret is shown
 * once, and the room's list of them. `make()` checks the form and asks the
 * server; it returns the nodes that show the secret, or a string saying what
 * the form lacks. `renderItem(w, change)` builds a list item; `change(action)`
 * runs a change to that webhook and shows the list as it is afterwards.
 */
function webhookSection ({ title, hint, fetchItems, renderItem, fields, submitLabel, make }) {
  const note = formError()
  const fresh = h('div', { class: 'new-token', hidden: true })
  const change = async (action, { forgetSecret = false } = {}) => {
    try {
      await action()
      // The secret on show may be the deleted webhook's.
      if (forgetSecret) fresh.hidden = true
    } catch (err) { note.textContent = errorText(err) }
    await load()
  }
  const { list, load } = reloadingList(title, fetchItems, (w) => renderItem(w, change), `No ${title.toLowerCase()}.`, note)
  const form = h('form', { class: 'stack', novalidate: true }, ...fields,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, submitLabel)))
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    note.textContent = ''
    try {
      const shown = await make()
      if (typeof shown === 'string') { note.textContent = shown; return }
      fresh.replaceChildren(...shown)
      fresh.hidden = false
      await load()
    } catch (err) {
      note.textContent = errorText(err)
    }
  })
  const element = h('section', { class: 'stack' }, h('h3', {}, title), h('p', { class: 'hint' }, hint), form, note, fresh, list)
  return { element, load }
}

function incomingSection (roomId) {
  const name = h('input', { id: 'incoming-hook-name', maxlength: '64', autocomplete: 'off', placeholder: 'CI, Grafana, uptime…' })
  return webhookSection({
    title: 'Incoming webhooks',
    hint: 'A secret URL that posts into this room: anything that can notify Slack can notify this room.',
    fetchItems: async () => (await api.incomingWebhooks(roomId)).webhooks,
    renderItem: (w, change) => h('li', {},
      h('span', { class: 'token-name' }, w.name),
      h('span', { class: 'muted' }, ' made ', timeEl(w.createdAt), w.lastUsedAt ? [', last used ', timeEl(w.lastUsedAt)] : ', never used'),
      deleteButton(`Delete incoming webhook ${w.name}`, () => change(() => api.deleteIncomingWebhook(roomId, w.id), { forgetSecret: true }))),
    fields: [h('div', { class: 'field' }, h('label', { for: 'incoming-hook-name' }, 'Webhook name'), name,
      h('p', { class: 'hint' }, 'Its messages are signed with this name, unless the tool sends its own.'))],
    submitLabel: 'Create incoming webhook',
    make: async () => {
      if (!name.value.trim()) { name.focus(); return 'Name the webhook after the tool that will post.' }
      const made = await api.createIncomingWebhook(roomId, name.value.trim())
      name.value = ''
      return [
        h('p', {}, 'Copy the URL now: it is shown only once. Paste it where a tool asks for a Slack webhook URL.'),
        secretField('incoming-hook-url', 'Webhook URL', made.url),
        h('p', {}, 'Or post from a script:'),
        h('pre', { class: 'curl' }, h('code', {}, `curl -H 'Content-Type: application/json' -d '{"text": "hello"}' ${made.url}`))]
    }
  })
}

/** What a delivery's state is, for people: active, retrying after an error, or failing and paused. */
function hookState (w) {
  if (w.failing) return h('span', { class: 'hook-state failing' }, 'failing: paused')
  if (w.lastError) return h('span', { class: 'hook-state retrying' }, 'retrying')
  return h('span', { class: 'hook-state active' }, 'active')
}

function outgoingSection (roomId) {
  const url = h('input', { id: 'outgoing-hook-url', type: 'url', maxlength: '2048', autocomplete: 'off', placeholder: 'https://example.com/chat-bot.php' })
  const bot = h('input', { id: 'outgoing-hook-name', maxlength: '64', autocomplete: 'off' })
  const boxes = EVENT_TYPES.map(type => h('input', { type: 'checkbox', id: `hook-event-${type}`, value: type, checked: type === 'message' }))
  return webhookSection({
    title: 'Outgoing webhooks',
    hint: 'This room’s events, POSTed as JSON to a URL of yours; failed deliveries are retried (for a day by default), then the webhook pauses until resumed.',
    fetchItems: async () => (await api.outgoingWebhooks(roomId)).webhooks,
    renderItem: (w, change) => h('li', {},
      h('span', { class: 'token-name hook-url' }, w.url),
      hookState(w),
      h('span', { class: 'muted' }, ' ', w.events.join(', ')),
      w.lastError ? h('span', { class: 'hook-error' }, `Last error: ${w.lastError}`) : null,
      w.failing
        ? h('button', {
          type: 'button',
          class: 'small',
          'aria-label': `Resume outgoing webhook ${w.url}`,
          onclick: (e) => { e.currentTarget.disabled = true; change(() => api.resumeOutgoingWebhook(roomId, w.id)) }
        }, 'Resume')
        : null,
      deleteButton(`Delete outgoing webhook ${w.url}`, () => change(() => api.deleteOutgoingWebhook(roomId, w.id), { forgetSecret: true }))),
    fields: [
      h('div', { class: 'field' }, h('label', { for: 'outgoing-hook-url' }, 'Receiver URL'), url),
      h('fieldset', { class: 'hook-events' }, h('legend', {}, 'Events to send'),
        ...boxes.map(box => h('div', { class: 'choice' }, box, h('label', { for: box.id }, box.value)))),
      h('div', { class: 'field' }, h('label', { for: 'outgoing-hook-name' }, 'Bot name (optional)'), bot,
        h('p', { class: 'hint' }, 'A JSON answer {"text": "…"} is posted to the room under this name.'))],
    submitLabel: 'Create outgoing webhook',
    make: async () => {
      const events = boxes.filter(b => b.checked).map(b => b.value)
      if (!url.value.trim()) { url.focus(); return 'Where should the events go? Give an http or https URL.' }
      if (!events.length) return 'Pick at least one event to send.'
      const made = await api.createOutgoingWebhook(roomId, { url: url.value.trim(), events, ...(bot.value.trim() ? { name: bot.value.trim() } : {}) })
      url.value = ''
      bot.value = ''
      return [
        h('p', {}, 'Copy the signing secret now: it is shown only once. Each delivery carries X-Chat-Signature: sha256=<HMAC-SHA256 of the body with this secret>.'),
        secretField('outgoing-hook-secret', 'Signing secret', made.secret)]
    }
  })
}
