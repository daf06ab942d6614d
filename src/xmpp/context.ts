import type { FastifyBaseLogger } from 'fastify'
import type { AuthService, AuthUser } from '../auth/service.js'
import type { MessageService } from '../messages/service.js'
import type { PollEngine } from '../poll/engine.js'
import type { Presence } from '../poll/presence.js'
import type { RoomService } from '../rooms/service.js'
import type { XmppDomains } from './jid.js'
import type { XmppLimits } from './limits.js'
import type { Role } from '../rooms/repository.js'

/** The services an XMPP session acts through: the very ones the HTTP API uses, so nothing is bypassed. */
export interface XmppServices {
  auth: AuthService
  rooms: RoomService
  messages: MessageService
  engine: PollEngine
  presence: Presence
  limits: XmppLimits
  domains: XmppDomains
  log: FastifyBaseLogger
  /** Most messages of history a MUC join sends (the client's `maxstanzas` may ask for fewer). */
  maxHistory: number
}

/** The HTTP request a stanza arrived on: whose address it is, and the reply rate-limit hooks may set headers on. */
export interface Arrival { ip: string, reply: import('fastify').FastifyReply }

/** A channel this session has joined as a MUC room. */
export interface JoinedRoom {
  id: number
  name: string
  nick: string
  /** The newest event the join's history already delivered: the feed skips messages up to it. */
  historyUpTo: number
  /** Usernames whose ban event came and whose leave has not yet: their leave is a ban (status 301). */
  banning: Set<string>
  /** Occupants shown offline (`<show>xa</show>`): one who then acts here is shown available. */
  offline: Map<string, Role>
}

/** What the XMPP stream of one BOSH session knows: who signed in, its resource, its place in the event stream, its rooms. */
export class XmppState {
  stage: 'sasl' | 'restart' | 'bind' | 'ready' = 'sasl'
  user: AuthUser | null = null
  /** The session cookie the sign-in made: checked again on each request, so a logout or revocation ends the stream too. */
  cookie: string | null = null
  resource: string | null = null
  cursor: number | null = null
  readonly rooms = new Map<number, JoinedRoom>()
  /** Direct rooms, by room id: the other user's username, the JID one-to-one chat uses. */
  readonly directs = new Map<number, string>()
  /**
   * Contacts' presence (RFC 6121 §4.2): null until the client's initial
   * presence; then the contacts this stream has shown online.
   */
  contactsOnline: Set<string> | null = null
  /** Stanza ids of messages this stream has seen, by message id: corrections and retractions name the original's id. */
  readonly stanzaIds = new Map<number, string>()

  constructor (readonly domains: XmppDomains) {}

  get bareJid (): string { return `${this.user?.username ?? ''}@${this.domains.domain}` }
  get fullJid (): string { return `${this.bareJid}/${this.resource ?? ''}` }

  roomNamed (name: string): JoinedRoom | undefined {
    for (const r of this.rooms.values()) if (r.name === name) return r
    return undefined
  }

  rememberStanzaId (messageId: number, stanzaId: string): void {
    this.stanzaIds.set(messageId, stanzaId)
    // Bounded: only recent messages are corrected or retracted in practice.
    if (this.stanzaIds.size > 2000) this.stanzaIds.delete(this.stanzaIds.keys().next().value as number)
  }
}
