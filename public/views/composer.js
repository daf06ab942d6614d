import { h } from '../ui.js'
import { currentRoom, typingNames } from '../state.js'

// The message box, its Send button, and the "… is typing" line above it.
// `tools` (the attach button) sit before the box.

/**
 * @param {object} o
 * @param {(text: string) => void} o.onSend
 * @param {() => void} o.onTyping the box holds text: a hint for the others
 * @param {Node[]} [o.tools]
 */
export function createComposer ({ onSend, onTyping, tools = [] }) {
  const input = h('textarea', { id: 'composer-text', rows: '1', maxlength: '8000', autocomplete: 'off', enterkeyhint: 'send' })
  const sendButton = h('button', { type: 'submit', class: 'primary' }, 'Send')
  const form = h('form', { class: 'composer' },
    ...tools, h('label', { for: 'composer-text', class: 'sr-only' }, 'Message'), input, sendButton)
  const typingLine = h('p', { class: 'typing' })
  const send = () => {
    if (!input.value.trim() || input.disabled) return
    if (onSend(input.value) !== false) input.value = ''
  }
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault()
      send()
    }
  })
  input.addEventListener('input', () => { if (input.value.trim()) onTyping() })
  form.addEventListener('submit', (e) => { e.preventDefault(); send() })

  function render (state) {
    const room = currentRoom(state)
    input.disabled = !room
    sendButton.disabled = !room
    const names = typingNames(state)
    const text = names.length === 0
      ? ''
      : names.length === 1
        ? `${names[0]} is typing…`
        : names.length <= 3 ? `${names.join(', ')} are typing…` : 'Several people are typing…'
    if (typingLine.textContent !== text) typingLine.textContent = text
  }

  return { typingLine, form, render, focus: () => input.focus() }
}
