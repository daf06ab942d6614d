import { Element, Parser } from 'ltx'

export { Element }

/** The body limits of a BOSH request; larger or deeper documents are refused before any stanza runs. */
export interface XmlLimits { maxBytes: number, maxDepth: number }

export class XmlError extends Error {}

// ltx resolves only the five predefined entities and character references, and
// has no DTD support; refusing any declaration up front also rules out a
// billion-laughs document that another parser might expand.
const declaration = /<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST)/i

/** Parses one XML document (a BOSH `<body/>`) within the limits; throws XmlError for anything else. */
export function parseXml (text: string, limits: XmlLimits): Element {
  if (Buffer.byteLength(text) > limits.maxBytes) throw new XmlError('too large')
  if (declaration.test(text)) throw new XmlError('declarations are not allowed')
  const p = new Parser()
  let depth = 0
  let tooDeep = false
  let error: unknown = null
  let tree: Element | null = null
  p.parser.on('startElement', () => { if (++depth > limits.maxDepth) tooDeep = true })
  p.parser.on('endElement', () => { depth-- })
  p.on('tree', (t: Element) => { tree = t })
  p.on('error', (e: unknown) => { error = e })
  try {
    p.write(text)
    p.end()
  } catch (err) {
    error = err
  }
  if (tooDeep) throw new XmlError('too deep')
  if (error !== null || tree === null) throw new XmlError('not well-formed')
  return tree
}

/** An element with the given children, skipping undefined ones (optional parts of a stanza). */
export function el (name: string, attrs: Record<string, string | number | undefined> = {}, ...children: Array<Element | string | undefined>): Element {
  const clean: Record<string, string | number> = {}
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) clean[k] = v
  const e = new Element(name, clean)
  for (const c of children) {
    if (c === undefined) continue
    if (typeof c === 'string') e.t(c)
    else e.cnode(c)
  }
  return e
}
