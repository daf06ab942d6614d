// ltx ships no types; these are the parts this folder uses.
declare module 'ltx' {
  import type { EventEmitter } from 'node:events'

  export type Node = Element | string

  export class Element {
    constructor (name: string, attrs?: Record<string, string | number | undefined>)
    name: string
    attrs: Record<string, string>
    children: Node[]
    parent: Element | null
    getName (): string
    getNS (): string | undefined
    is (name: string, xmlns?: string): boolean
    getChild (name: string, xmlns?: string): Element | undefined
    getChildren (name: string, xmlns?: string): Element[]
    getChildElements (): Element[]
    getText (): string
    getChildText (name: string, xmlns?: string): string | null
    c (name: string, attrs?: Record<string, string | number | undefined>): Element
    cnode (child: Element): Element
    t (text: string): Element
    up (): Element
    root (): Element
    toString (): string
  }

  export class Parser extends EventEmitter {
    constructor ()
    parser: EventEmitter
    write (data: string): void
    end (data?: string): void
  }

  export function parse (text: string): Element

  export function xml (name: string, attrs?: Record<string, string | number | undefined> | null, ...children: Array<Node | Node[] | undefined>): Element
}
