/**
 * The text a receiver's 2xx answer asks its bot to post: JSON `{"text": "..."}`
 * with 1-4000 code points, not only white space, no NUL (as a send requires).
 * Anything else (no body, not JSON, no text) posts nothing.
 */
export function botReply (body: string): string | null {
  if (body.trim() === '') return null
  let parsed: unknown
  try { parsed = JSON.parse(body) } catch { return null }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null
  const text = (parsed as { text?: unknown }).text
  if (typeof text !== 'string' || text.trim() === '' || text.includes('\u0000')) return null
  return [...text].length <= 4000 ? text : null
}
