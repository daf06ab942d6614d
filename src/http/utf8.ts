import { AppError } from './errors.js'

/**
 * Every body the API takes is text, and UTF-8 per the contract. A lenient
 * decoder turns bad bytes into U+FFFD without a word, so a message would be
 * stored altered: this one refuses such a body with 400 instead. It runs on the
 * whole body once it has been read (inside the content-type parsers), never as
 * a stream stage, so a bad byte can only ever fail that one request.
 */
export function decodeUtf8 (body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body)
  } catch {
    throw new AppError('invalid', 'The request body is not valid UTF-8.', { fields: { body: 'is not valid UTF-8' } })
  }
}
