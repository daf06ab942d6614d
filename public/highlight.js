/* global document, NodeFilter */
// Marks the searched words in text already on its way to the page: each
// match is wrapped in <mark>, case-insensitively, inside text nodes only, so
// links made by linkify stay links and no text is ever parsed as HTML.

const escape = (word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A pattern for any of `words`, or null when there is nothing to mark. */
function pattern (words) {
  const usable = (words || []).filter(w => w.length > 0).sort((a, b) => b.length - a.length)
  return usable.length ? new RegExp(usable.map(escape).join('|'), 'giu') : null
}

/** Wraps every match of `words` in the text nodes under `root` (an element or a fragment); returns `root`. */
export function markWords (root, words) {
  const re = pattern(words)
  if (re === null) return root
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT)
  const texts = []
  for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node)
  for (const node of texts) {
    const text = node.data
    const parts = []
    let last = 0
    for (const match of text.matchAll(re)) {
      if (match.index > last) parts.push(text.slice(last, match.index))
      const mark = document.createElement('mark')
      mark.textContent = match[0]
      parts.push(mark)
      last = match.index + match[0].length
    }
    if (!parts.length) continue
    if (last < text.length) parts.push(text.slice(last))
    node.replaceWith(...parts)
  }
  return root
}
