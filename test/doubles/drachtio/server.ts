/**
 * A test double of drachtio-server: its admin protocol on TCP (what drachtio-srf talks to) and a small SIP stack on
 * UDP (what sipp and baresip talk to). Built from shared/research/drachtio-wire (PROTOCOL.md and the captures of a real
 * server, commit 9c2dd4cb6a): frame layout, ids, the headers the server writes and what it does by itself (100 Trying,
 * ACK of non-2xx, 487 on CANCEL, 2xx retransmission, the ACK-timeout BYE, 481/503) follow those captures. See
 * test/doubles/README.md for what is covered and what is not.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import dgram from 'node:dgram'
import { EventEmitter } from 'node:events'
import net from 'node:net'
import { FrameDecoder, encodeFrame } from './framing.js'
import {
  CRLF,
  STACK_OWNED,
  branchOf,
  canonicalName,
  cseqOf,
  header,
  headersNamed,
  hostPortOf,
  isKnown,
  normName,
  parseSip,
  tagOf,
  uriOf,
  type SipMessage,
} from './sip-message.js'

export interface DrachtioDoubleOptions {
  secret: string
  host?: string
  /** 0 picks a free port. */
  adminPort?: number
  sipPort?: number
  /** Version string in the authenticate reply. The captured server says a bare hash, so drachtio-srf never pings. */
  version?: string
  /** SIP timer T1 (ms); the 2xx retransmission and ACK timeout (64*T1) scale with it. Real default 500. */
  t1Ms?: number
  t2Ms?: number
  /** `<cdrs>true</cdrs>` in the real server's config: CDR frames go to apps that routed `cdr:attempt|start|stop`. */
  cdrs?: boolean
  /**
   * Reproduce the captured bug (PROTOCOL.md §12.9, transcript g2): a provisional to a re-INVITE from the app makes the
   * server forget the transaction, so the 200 is never passed on nor ACKed and dlg.modify() never settles. Default
   * true, as the real server does; false gives the correct behaviour.
   */
  reinviteProvisionalBug?: boolean
  /** Keep every admin frame in `frames` (tests usually record at a WireRecorder instead). */
  recordFrames?: boolean
}

/** One admin frame as it crossed the double's admin port (for tests and debugging). */
export interface AdminFrame {
  dir: 'in' | 'out'
  conn: number
  payload: string
}

type Transport = 'udp' | 'tcp'

interface Peer {
  host: string
  port: number
  /** udp unless said otherwise */
  transport?: Transport
}

/** Where a URI sends to, and over what (`;transport=tcp`). */
function peerOf(uri: string): Peer {
  return { ...hostPortOf(uri), transport: /;\s*transport=tcp/i.test(uri) ? 'tcp' : 'udp' }
}

function protoOf(p: Peer): Transport {
  return p.transport ?? 'udp'
}

interface AdminConn {
  id: number
  socket: net.Socket
  decoder: FrameDecoder
  routes: string[]
  stalled: boolean
}

interface Dialog {
  id: string
  role: 'uac' | 'uas'
  callId: string
  localTag: string
  remoteTag: string
  /** From (uac) or To (uas) header value, with our tag. */
  local: string
  /** The other party's header value, with its tag once known. */
  remote: string
  remoteTarget: string
  peer: Peer
  localCseq: number
  conn: AdminConn
  state: 'early' | 'confirmed' | 'failed'
  /** uac: the INVITE's CSeq number, for the ACK. */
  inviteCseq: number
  /** uac: the ACK the app had us send, re-sent when the far end retransmits its 2xx. */
  lastAck?: string
  /** uac: the INVITE went to an outbound proxy (5th leader token), which then carries the whole dialog. */
  viaProxy?: boolean
  /** uas: the server transaction of an INVITE whose 2xx waits for its ACK. */
  awaitingAck?: ServerTxn
}

interface ClientTxn {
  txnId: string
  branch: string
  method: string
  msg: SipMessage
  text: string
  dest: Peer
  conn: AdminConn
  dialogId: string
  final: number
  provisional: boolean
  timer?: NodeJS.Timeout
  timeout?: NodeJS.Timeout
  /** INVITE to a non-2xx: our own ACK, re-sent on retransmitted finals. */
  ackText?: string
  swallow: boolean
  /** an INVITE inside an established dialog */
  reInvite?: boolean
}

interface ServerTxn {
  txnId: string
  branch: string
  method: string
  msg: SipMessage
  /** The request as handed to the app (top Via with rport filled in). */
  forwarded: string
  bytes: number
  source: Peer
  conn?: AdminConn
  toTag?: string
  lastResponse?: string
  final: number
  dialog?: Dialog
  /** a re-INVITE: its ACK gets a new transaction id. */
  inDialog: boolean
  retransmit?: NodeJS.Timeout
  ackTimeout?: NodeJS.Timeout
}

/** Out-of-dialog methods the server hands to a routed app (others are dropped, BYE/UPDATE get 481). */
const ROUTABLE = new Set(['INVITE', 'REGISTER', 'OPTIONS', 'MESSAGE', 'INFO', 'NOTIFY', 'SUBSCRIBE', 'PUBLISH'])

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
function token(n: number): string {
  const bytes = randomBytes(n)
  let s = ''
  for (const b of bytes) s += ALNUM[b % ALNUM.length]
  return s
}

/** `HH:MM:SS.uuuuuu`, UTC time of day (drachtio.cpp). */
function wireTime(): string {
  const d = new Date()
  const micro = String(d.getUTCMilliseconds() * 1000 + Number((process.hrtime.bigint() / 1000n) % 1000n)).padStart(6, '0')
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${micro}`
}

function withTag(nameAddr: string, tag: string): string {
  return tagOf(nameAddr) ? nameAddr : `${nameAddr};tag=${tag}`
}

export class DrachtioDouble extends EventEmitter {
  readonly host: string
  readonly secret: string
  readonly version: string
  readonly t1: number
  readonly t2: number
  adminPort = 0
  sipPort = 0
  /** Every admin frame in and out, in order, when constructed with `recordFrames` (off by default: load runs). */
  readonly frames: AdminFrame[] = []

  private readonly opts: DrachtioDoubleOptions
  private admin?: net.Server
  private udp?: dgram.Socket
  private tcp?: net.Server
  /** SIP over TCP: one connection per peer, inbound ones keyed by their remote address. */
  private readonly tcpConns = new Map<string, net.Socket>()
  private readonly conns = new Map<number, AdminConn>()
  private nextConn = 1
  private roundRobin = 0
  private readonly dialogs = new Map<string, Dialog>()
  /** `${callId}|${localTag}` → dialog, for requests from the network. */
  private readonly dialogsByLeg = new Map<string, Dialog>()
  private readonly clientByKey = new Map<string, ClientTxn>()
  private readonly clientById = new Map<string, ClientTxn>()
  private readonly serverByKey = new Map<string, ServerTxn>()
  private readonly serverById = new Map<string, ServerTxn>()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(opts: DrachtioDoubleOptions) {
    super()
    this.opts = opts
    this.host = opts.host ?? '127.0.0.1'
    this.secret = opts.secret
    this.version = opts.version ?? '9c2dd4cb6a'
    this.t1 = opts.t1Ms ?? 500
    this.t2 = opts.t2Ms ?? 4000
  }

  async start(): Promise<this> {
    // UDP and TCP must get the same port number; with a free port picked by the OS, TCP may find it taken: retry
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bindSip()
        break
      } catch (err) {
        await new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve()))
        if (this.opts.sipPort || attempt >= 10) throw err
      }
    }
    this.admin = net.createServer((s) => this.onAdminConnection(s))
    await new Promise<void>((resolve) => this.admin!.listen(this.opts.adminPort ?? 0, this.host, resolve))
    this.adminPort = (this.admin.address() as net.AddressInfo).port
    return this
  }

  private async bindSip(): Promise<void> {
    // a bigger receive buffer (Linux caps it at net.core.rmem_max): at hundreds of calls per second one busy event-loop
    // turn otherwise overflows the default and the kernel drops ACKs and BYEs (UdpRcvbufErrors)
    this.udp = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 })
    this.udp.on('message', (buf, rinfo) => this.onSip(buf, { host: rinfo.address, port: rinfo.port }))
    // ICMP port-unreachable surfaces as an error on the socket; the stack keeps running.
    this.udp.on('error', (err) => this.emit('sip-error', err))
    await new Promise<void>((resolve) => this.udp!.bind(this.opts.sipPort ?? 0, this.host, resolve))
    this.sipPort = this.udp.address().port
    // SIP over TCP on the same port number, as the real server listens (tcp/ and udp/ in the authenticate reply)
    this.tcp = net.createServer((sock) => this.adoptTcp(sock, { host: sock.remoteAddress ?? '', port: sock.remotePort ?? 0, transport: 'tcp' }))
    await new Promise<void>((resolve, reject) => {
      this.tcp!.once('error', reject)
      this.tcp!.listen(this.sipPort, this.host, () => resolve())
    })
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const t of [...this.clientById.values()]) this.clearClientTimers(t)
    for (const t of [...this.serverById.values()]) this.clearServerTimers(t)
    for (const c of this.conns.values()) c.socket.destroy()
    this.conns.clear()
    for (const s of this.tcpConns.values()) s.destroy()
    this.tcpConns.clear()
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()))
    await new Promise<void>((resolve) => (this.admin ? this.admin.close(() => resolve()) : resolve()))
    await new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve()))
  }

  /** Number of dialogs the stack still holds (the engine must leave none behind). */
  get dialogCount(): number {
    return this.dialogs.size
  }

  get connectionCount(): number {
    return this.conns.size
  }

  /** Writes raw bytes on every admin connection (or one), bypassing framing: how a garbled stream is simulated. */
  injectAdminBytes(data: string | Buffer, connId?: number): void {
    for (const c of this.conns.values()) {
      if (connId === undefined || c.id === connId) c.socket.write(data)
    }
  }

  /**
   * A frame whose length prefix is garbage, as a real server under load once produced (issue 5, upstream
   * drachtio-server PR #361): drachtio-srf throws "invalid message, missing length specifier" from its socket handler.
   */
  injectCorruptFrame(connId?: number): void {
    this.injectAdminBytes(`|sip|network|garbled#SIP/2.0 200 OK${CRLF}${CRLF}`, connId)
  }

  /** Drops every admin connection, as a server restart would; dialogs stay in the stack (orphaned, like the real one). */
  dropAdminConnections(): void {
    for (const c of this.conns.values()) c.socket.destroy()
  }

  // ---------------------------------------------------------------- admin side

  private onAdminConnection(socket: net.Socket): void {
    const conn: AdminConn = { id: this.nextConn++, socket, decoder: new FrameDecoder(), routes: [], stalled: false }
    this.conns.set(conn.id, conn)
    socket.setNoDelay(true)
    socket.on('data', (chunk) => {
      if (conn.stalled) return
      const { frames, error } = conn.decoder.push(chunk)
      for (const f of frames) this.onAdminFrame(conn, f)
      if (error === 'bad-prefix') socket.end()
      // The real server's ring buffer stalls the connection forever on a frame over 12228 bytes (a3, a4).
      else if (error === 'too-large') {
        conn.stalled = true
        this.emit('stalled', conn.id)
      }
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      this.conns.delete(conn.id)
      this.emit('disconnect', conn.id)
    })
  }

  private send(conn: AdminConn, payload: string): void {
    if (conn.socket.destroyed) return
    const full = `${randomUUID()}|${payload}`
    if (this.opts.recordFrames) this.frames.push({ dir: 'out', conn: conn.id, payload: full })
    conn.socket.write(encodeFrame(full))
  }

  private reply(conn: AdminConn, msgId: string, rest: string): void {
    this.send(conn, `response|${msgId}|${rest}`)
  }

  private onAdminFrame(conn: AdminConn, payload: string): void {
    if (this.opts.recordFrames) this.frames.push({ dir: 'in', conn: conn.id, payload })
    const crlf = payload.indexOf(CRLF)
    const leader = crlf === -1 ? payload : payload.slice(0, crlf)
    const sip = crlf === -1 ? '' : payload.slice(crlf + 2)
    const tokens = leader.split('|')
    const msgId = tokens[0] ?? ''
    if (tokens.length < 2) {
      this.reply(conn, msgId, 'NO|Invalid message format')
      conn.socket.end()
      return
    }
    switch (tokens[1]) {
      case 'authenticate': {
        if (tokens[2] !== this.secret) {
          this.reply(conn, msgId, 'NO|incorrect secret')
          conn.socket.end()
          return
        }
        const hp = `tcp/${this.host}:${this.sipPort},udp/${this.host}:${this.sipPort}`
        this.reply(conn, msgId, `OK|${hp}|${this.version}|${hp}`)
        return
      }
      case 'route':
        conn.routes.push(tokens[2] ?? '')
        this.reply(conn, msgId, 'OK')
        return
      case 'remove_route':
        // Removes every route of the connection, whatever the verb (client-controller.cpp).
        conn.routes = []
        this.reply(conn, msgId, 'OK')
        return
      case 'ping':
        this.reply(conn, msgId, 'OK|pong')
        return
      case 'sip':
        this.onAppSip(conn, msgId, tokens, sip)
        return
      case 'proxy':
        this.reply(conn, msgId, 'NOK|proxy is not implemented by the test double')
        return
      default:
        this.reply(conn, msgId, 'NO|Unknown message type')
        conn.socket.end()
    }
  }

  private onAppSip(conn: AdminConn, msgId: string, tokens: string[], text: string): void {
    const txnId = tokens[2] ?? ''
    const dialogId = tokens[3] ?? ''
    const proxy = tokens[4] ?? ''
    let msg: SipMessage
    try {
      msg = parseSip(text)
    } catch (err) {
      this.reply(conn, msgId, `NOK|${(err as Error).message}`)
      return
    }
    try {
      if (msg.isResponse) this.appResponse(conn, msgId, txnId, msg)
      else if (dialogId !== '') this.appInDialogRequest(conn, msgId, dialogId, msg)
      else if (msg.method === 'CANCEL') this.appCancel(conn, msgId, txnId)
      else this.appNewRequest(conn, msgId, msg, proxy)
    } catch (err) {
      this.reply(conn, msgId, `NOK|${(err as Error).message}`)
    }
  }

  // ---------------------------------------------------------------- requests and responses from the app

  /** App headers, split the way sofia writes them: known ones before Content-Type, unknown after Content-Length. */
  private appHeaders(msg: SipMessage, skip: Set<string>): { known: string[]; unknown: string[]; contentType?: string } {
    const known: string[] = []
    const unknown: string[] = []
    let contentType: string | undefined
    for (const [name, value] of msg.headers) {
      const n = normName(name)
      if (STACK_OWNED.has(n) || skip.has(n)) continue
      const v = this.replaceLocalhost(value)
      if (n === 'content-type') contentType = v
      else if (isKnown(name)) known.push(`${canonicalName(name)}: ${v}`)
      else unknown.push(`${canonicalName(name)}: ${v}`)
    }
    return { known, unknown, contentType }
  }

  private via(branch: string, transport: Transport): string {
    // sofia asks for rport over UDP only (j-uac-tcp)
    return transport === 'tcp'
      ? `Via: SIP/2.0/TCP ${this.host}:${this.sipPort};branch=${branch}`
      : `Via: SIP/2.0/UDP ${this.host}:${this.sipPort};rport;branch=${branch}`
  }

  private contactUri(transport: Transport): string {
    return transport === 'tcp' ? `<sip:${this.host}:${this.sipPort};transport=tcp>` : `<sip:${this.host}:${this.sipPort}>`
  }

  private replaceLocalhost(v: string): string {
    return v.replace(/@localhost(?=[>;:\s]|$)/g, `@${this.host}:${this.sipPort}`)
  }

  private contentType(body: string, given: string | undefined): string | undefined {
    if (given) return given
    if (body === '') return undefined
    if (body.startsWith('v=0')) return 'application/sdp'
    throw new Error('missing content-type')
  }

  private assemble(startLine: string, head: string[], known: string[], body: string, ctype: string | undefined, unknown: string[]): string {
    const lines = [startLine, ...head, ...known]
    if (ctype) lines.push(`Content-Type: ${ctype}`)
    lines.push(`Content-Length: ${Buffer.byteLength(body, 'utf8')}`)
    lines.push(...unknown)
    return lines.join(CRLF) + CRLF + CRLF + body
  }

  private appNewRequest(conn: AdminConn, msgId: string, msg: SipMessage, proxy: string): void {
    const dest = peerOf(proxy || msg.uri)
    const transport = protoOf(dest)
    if ((dest.host === this.host || dest.host === 'localhost') && dest.port === this.sipPort) {
      throw new Error('can not send request to myself')
    }
    const method = msg.method
    const branch = `z9hG4bK${token(13)}`
    const from = withTag(this.replaceLocalhost(header(msg, 'from') ?? this.contactUri(transport)), token(13))
    // quirk (j): the Request-URI is parsed as an addr-spec, so its parameters become header parameters of To
    const [uriBase, ...uriParams] = msg.uri.split(';')
    const to = this.replaceLocalhost(header(msg, 'to') ?? `<${uriBase}>${uriParams.map((p) => `;${p}`).join('')}`)
    const callId = header(msg, 'call-id') ?? randomUUID()
    const cseq = 1 + Math.floor(Math.random() * 2 ** 30)
    const { known, unknown, contentType } = this.appHeaders(msg, new Set(['contact']))
    const ctype = this.contentType(msg.body, contentType)
    const head = [
      this.via(branch, transport),
      'Max-Forwards: 70',
      `From: ${from}`,
      `To: ${to}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
    ]
    const appContact = header(msg, 'contact')
    if (appContact) head.push(`Contact: ${this.replaceLocalhost(appContact)}`)
    else if (method === 'INVITE' || method === 'SUBSCRIBE') head.push(`Contact: ${this.contactUri(transport)}`)
    const text = this.assemble(`${method} ${msg.uri} SIP/2.0`, head, known, msg.body, ctype, unknown)
    const localTag = tagOf(from)!
    let dialogId = ''
    if (method === 'INVITE') {
      dialogId = `${callId};from-tag=${localTag}`
      this.addDialog({
        id: dialogId, role: 'uac', callId, localTag, remoteTag: '', local: from, remote: to, remoteTarget: msg.uri,
        peer: dest, localCseq: cseq, conn, state: 'early', inviteCseq: cseq, viaProxy: proxy !== '',
      })
    }
    const txn = this.startClientTxn(conn, method, branch, text, dest, dialogId)
    // the attempt CDR leaves before the OK reply (l2-cdr-outbound-rejected)
    if (method === 'INVITE') this.cdr('attempt', 'application', text)
    this.replySent(conn, msgId, text, txn.txnId, dest)
    this.transmitClient(txn)
  }

  /**
   * CDR frames (cdr.cpp): `cdr:attempt|<source>|<time>`, `cdr:start|<source>|<time>|<role>`,
   * `cdr:stop|<source>|<time>|<reason>`, each followed by the SIP message it is about.
   */
  private cdr(kind: 'attempt' | 'start' | 'stop', source: 'network' | 'application', sip: string, extra?: string): void {
    if (!this.opts.cdrs) return
    const conn = this.pickConn(`cdr:${kind}`)
    if (!conn) return
    this.send(conn, `cdr:${kind}|${source}|${wireTime()}${extra ? `|${extra}` : ''}${CRLF}${sip}`)
  }

  /** The OK for a request the app had sent: the request as written, `Msg sent:` where a dialogId would be. */
  private replySent(conn: AdminConn, msgId: string, text: string, txnId: string, dest: Peer): void {
    const bytes = Buffer.byteLength(text, 'utf8')
    // address/port are the transport's name: the local address for UDP, the peer for TCP (b vs j)
    const where = protoOf(dest) === 'tcp' ? `tcp|${dest.host}|${dest.port}` : `udp|${this.host}|${this.sipPort}`
    this.reply(conn, msgId, `OK|application|${bytes}|${where}|${wireTime()}|${txnId}|Msg sent:|${CRLF}${text}`)
  }

  private appInDialogRequest(conn: AdminConn, msgId: string, dialogId: string, msg: SipMessage): void {
    const dlg = this.dialogs.get(dialogId)
    const method = msg.method
    if (method === 'ACK') {
      if (!dlg || dlg.role !== 'uac' || dlg.state !== 'confirmed') {
        if (dlg?.state === 'failed') this.removeDialog(dlg)
        throw new Error('Server error: ACK for non-success final response is automatically generated by server')
      }
    } else if (!dlg || dlg.state === 'failed') {
      throw new Error('Server error: unable to find dialog for dialog id provided')
    }
    const d = dlg!
    // the stack builds ACK and PRACK itself; other requests keep the app's URI unless it is the placeholder
    const uri = method === 'ACK' || method === 'PRACK' || msg.uri.includes('placeholder') ? d.remoteTarget : msg.uri
    const seq = method === 'ACK' ? d.inviteCseq : ++d.localCseq
    if (method === 'INVITE') d.inviteCseq = seq
    const branch = `z9hG4bK${token(13)}`
    const { known, unknown, contentType } = this.appHeaders(msg, new Set(['contact']))
    const ctype = this.contentType(msg.body, contentType)
    const head = [
      this.via(branch, protoOf(d.peer)),
      'Max-Forwards: 70',
      `From: ${d.local}`,
      `To: ${d.remote}`,
      `Call-ID: ${d.callId}`,
      `CSeq: ${seq} ${method}`,
    ]
    const appContact = header(msg, 'contact')
    if (appContact) head.push(`Contact: ${this.replaceLocalhost(appContact)}`)
    else if (['INVITE', 'SUBSCRIBE', 'REFER'].includes(method)) head.push(`Contact: ${this.contactUri(protoOf(d.peer))}`)
    const text = this.assemble(`${method} ${uri} SIP/2.0`, head, known, msg.body, ctype, unknown)
    if (method === 'ACK') {
      // Not a transaction: the id in the reply is never seen again.
      d.lastAck = text
      this.replySent(conn, msgId, text, randomUUID(), d.peer)
      this.transmit(text, d.peer)
      return
    }
    const txn = this.startClientTxn(conn, method, branch, text, d.peer, d.id)
    txn.reInvite = method === 'INVITE'
    this.replySent(conn, msgId, text, txn.txnId, d.peer)
    if (method === 'BYE') this.cdr('stop', 'application', text, 'normal-release')
    this.transmitClient(txn)
  }

  private appCancel(conn: AdminConn, msgId: string, txnId: string): void {
    const invite = this.clientById.get(txnId)
    if (!invite || invite.method !== 'INVITE' || invite.final >= 200) {
      throw new Error(`unable to cancel unknown transaction id: ${txnId}`)
    }
    const m = invite.msg
    const text = [
      `CANCEL ${m.uri} SIP/2.0`,
      `Via: ${header(m, 'via')}`,
      'Max-Forwards: 70',
      `From: ${header(m, 'from')}`,
      `To: ${header(m, 'to')}`,
      `Call-ID: ${header(m, 'call-id')}`,
      `CSeq: ${cseqOf(m).seq} CANCEL`,
      'Content-Length: 0',
    ].join(CRLF) + CRLF + CRLF
    // sofia never passes the 200 to a CANCEL up; drachtio-srf knows and does not wait for it.
    const cancel = this.startClientTxn(conn, 'CANCEL', invite.branch, text, invite.dest, '')
    cancel.swallow = true
    this.replySent(conn, msgId, text, cancel.txnId, invite.dest)
    this.transmitClient(cancel)
  }

  private appResponse(conn: AdminConn, msgId: string, txnId: string, msg: SipMessage): void {
    if (txnId === '') throw new Error('transaction id missing')
    const txn = this.serverById.get(txnId)
    if (!txn || txn.final >= 200) throw new Error('Response not sent due to unknown transaction')
    const req = txn.msg
    const status = msg.status
    const isInvite = txn.method === 'INVITE'
    const appTo = header(msg, 'to')
    if (!txn.toTag) txn.toTag = tagOf(appTo) ?? tagOf(header(req, 'to')) ?? token(13)
    const vias = headersNamed(parseSip(txn.forwarded), 'via')
    const to = withTag(header(req, 'to') ?? '', txn.toTag)
    const { known, unknown, contentType } = this.appHeaders(msg, new Set(['contact']))
    const ctype = this.contentType(msg.body, contentType)
    const head = [
      ...vias.map((v) => `Via: ${v}`),
      `From: ${header(req, 'from')}`,
      `To: ${to}`,
      `Call-ID: ${header(req, 'call-id')}`,
      `CSeq: ${header(req, 'cseq')}`,
    ]
    const appContact = header(msg, 'contact')
    if (appContact) head.push(`Contact: ${this.replaceLocalhost(appContact)}`)
    else if (status >= 200 && status < 300 && (isInvite || txn.method === 'SUBSCRIBE')) {
      head.push(`Contact: ${this.contactUri(protoOf(txn.source))}`)
    }
    const text = this.assemble(`SIP/2.0 ${status} ${msg.reason}`, head, known, msg.body, ctype, unknown)

    let dialogId = ''
    if (isInvite) {
      let d = txn.dialog
      if (!d && !txn.inDialog && status > 100) {
        const callId = header(req, 'call-id') ?? ''
        const remoteTag = tagOf(header(req, 'from')) ?? ''
        d = this.addDialog({
          id: `${callId};from-tag=${remoteTag}`, role: 'uas', callId, localTag: txn.toTag, remoteTag, local: to,
          remote: header(req, 'from') ?? '', remoteTarget: uriOf(header(req, 'contact') ?? header(req, 'from') ?? ''),
          // our first request in a dialog we answered takes the caller's CSeq + 1 (i: `CSeq: 2 BYE`)
          peer: txn.source, localCseq: cseqOf(req).seq, conn, state: 'early', inviteCseq: 0,
        })
        txn.dialog = d
      }
      if (d) dialogId = d.id
    } else if (txn.dialog && this.dialogs.has(txn.dialog.id)) {
      dialogId = txn.dialog.id
    }
    if (status >= 200) txn.final = status
    txn.lastResponse = text
    this.transmit(text, txn.source)

    if (isInvite && txn.dialog) {
      if (status >= 300) {
        if (!txn.inDialog) this.removeDialog(txn.dialog)
        this.forgetServer(txn, 32 * this.t1)
      } else if (status >= 200) {
        txn.dialog.state = 'confirmed'
        txn.dialog.awaitingAck = txn
        // timer G and the ACK timeout (64*T1) run over UDP only: TCP is reliable
        if (protoOf(txn.source) === 'udp') this.startRetransmit2xx(txn)
      }
    }
    if (txn.method === 'BYE' && status >= 200 && txn.dialog) {
      this.removeDialog(txn.dialog)
      dialogId = ''
    }
    const proto = status >= 200 && !isInvite ? '' : protoOf(txn.source)
    const bytes = Buffer.byteLength(text, 'utf8')
    this.reply(
      conn, msgId,
      `OK|application|${bytes}|${proto}|${txn.source.host}|${txn.source.port}|${wireTime()}|${txn.txnId}|${dialogId}||Msg sent:|${CRLF}${text}`,
    )
    if (isInvite && !txn.inDialog && status >= 200) {
      if (status < 300) this.cdr('start', 'application', text, 'uas')
      else this.cdr('stop', 'application', text, 'call-rejected')
    }
    if (status >= 200 && !isInvite) this.forgetServer(txn, 32 * this.t1)
  }

  // ---------------------------------------------------------------- transactions

  private addDialog(d: Dialog): Dialog {
    this.dialogs.set(d.id, d)
    this.dialogsByLeg.set(`${d.callId}|${d.localTag}`, d)
    return d
  }

  private removeDialog(d: Dialog): void {
    this.dialogs.delete(d.id)
    this.dialogsByLeg.delete(`${d.callId}|${d.localTag}`)
    if (d.awaitingAck) this.clearServerTimers(d.awaitingAck)
  }

  private later(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t)
      fn()
    }, ms)
    this.timers.add(t)
    return t
  }

  private cancelTimer(t: NodeJS.Timeout | undefined): void {
    if (!t) return
    clearTimeout(t)
    this.timers.delete(t)
  }

  private startClientTxn(conn: AdminConn, method: string, branch: string, text: string, dest: Peer, dialogId: string): ClientTxn {
    const txn: ClientTxn = {
      txnId: randomUUID(), branch, method, msg: parseSip(text), text, dest, conn, dialogId, final: 0, provisional: false,
      swallow: false,
    }
    this.clientByKey.set(`${branch}|${method}`, txn)
    this.clientById.set(txn.txnId, txn)
    return txn
  }

  /** Timers A/E (retransmit over UDP) and B/F (408 fabricated by the stack after 64*T1). */
  private transmitClient(txn: ClientTxn): void {
    this.transmit(txn.text, txn.dest)
    let interval = this.t1
    const again = (): void => {
      if (txn.final || (txn.method === 'INVITE' && txn.provisional)) return
      // no retransmission over TCP
      if (protoOf(txn.dest) === 'udp') this.transmit(txn.text, txn.dest)
      interval = txn.method === 'INVITE' ? interval * 2 : Math.min(interval * 2, this.t2)
      txn.timer = this.later(again, interval)
    }
    txn.timer = this.later(again, interval)
    txn.timeout = this.later(() => {
      if (txn.final || (txn.method === 'INVITE' && txn.provisional)) return
      this.fabricateResponse(txn, 408, 'Request Timeout')
    }, 64 * this.t1)
  }

  private clearClientTimers(txn: ClientTxn): void {
    this.cancelTimer(txn.timer)
    this.cancelTimer(txn.timeout)
  }

  /** A response the stack makes up (timeout): bytes 0, empty address, port 0, To without angle brackets. */
  private fabricateResponse(txn: ClientTxn, status: number, reason: string): void {
    const m = txn.msg
    const to = uriOf(header(m, 'to') ?? '')
    const text = [
      `SIP/2.0 ${status} ${reason}`,
      `Via: ${header(m, 'via')}`,
      `From: ${header(m, 'from')}`,
      `To: ${to}`,
      `Call-ID: ${header(m, 'call-id')}`,
      `CSeq: ${header(m, 'cseq')}`,
      'Content-Length: 0',
    ].join(CRLF) + CRLF + CRLF
    this.onClientResponse(txn, parseSip(text), text, { host: '', port: 0 }, 0)
  }

  private forgetClient(txn: ClientTxn, afterMs: number): void {
    this.clearClientTimers(txn)
    this.later(() => {
      this.clientByKey.delete(`${txn.branch}|${txn.method}`)
      this.clientById.delete(txn.txnId)
    }, afterMs)
  }

  private forgetServer(txn: ServerTxn, afterMs: number): void {
    this.serverById.delete(txn.txnId)
    this.later(() => this.serverByKey.delete(`${txn.branch}|${txn.method}`), afterMs)
  }

  private clearServerTimers(txn: ServerTxn): void {
    this.cancelTimer(txn.retransmit)
    this.cancelTimer(txn.ackTimeout)
  }

  /** Timer G for our 2xx (T1 doubling, capped at T2) until the ACK; no ACK by 64*T1: BYE, told as `unsolicited`. */
  private startRetransmit2xx(txn: ServerTxn): void {
    let interval = this.t1
    const again = (): void => {
      if (!txn.lastResponse) return
      this.transmit(txn.lastResponse, txn.source)
      interval = Math.min(interval * 2, this.t2)
      txn.retransmit = this.later(again, interval)
    }
    txn.retransmit = this.later(again, interval)
    txn.ackTimeout = this.later(() => {
      this.cancelTimer(txn.retransmit)
      const d = txn.dialog
      if (!d || d.awaitingAck !== txn) return
      d.awaitingAck = undefined
      this.forgetServer(txn, 0)
      this.sendByeOnOwn(d, 'SIP;cause=200;text="ACK timeout"')
    }, 64 * this.t1)
  }

  private sendByeOnOwn(d: Dialog, reason: string): void {
    const seq = ++d.localCseq
    const text = [
      `BYE ${d.remoteTarget} SIP/2.0`,
      this.via(`z9hG4bK${token(13)}`, protoOf(d.peer)),
      'Max-Forwards: 70',
      `From: ${d.local}`,
      `To: ${d.remote}`,
      `Call-ID: ${d.callId}`,
      `CSeq: ${seq} BYE`,
      `Reason: ${reason}`,
      'Content-Length: 0',
    ].join(CRLF) + CRLF + CRLF
    const txn = this.startClientTxn(d.conn, 'BYE', branchOf(text.split(CRLF)[1]) ?? '', text, d.peer, '')
    txn.swallow = true
    this.transmitClient(txn)
    this.removeDialog(d)
    const bytes = Buffer.byteLength(text, 'utf8')
    // address/port of a sent UDP request are the local transport's (PROTOCOL.md §7)
    const where = protoOf(d.peer) === 'tcp' ? `tcp|${d.peer.host}|${d.peer.port}` : `udp|${this.host}|${this.sipPort}`
    this.send(d.conn, `sip|application|${bytes}|${where}|${wireTime()}|unsolicited|${d.id}|${CRLF}${text}`)
  }

  // ---------------------------------------------------------------- SIP from the network

  private transmit(text: string, to: Peer): void {
    if (protoOf(to) === 'tcp') this.sendTcp(text, to)
    else this.udp?.send(Buffer.from(text, 'utf8'), to.port, to.host)
  }

  private sendTcp(text: string, to: Peer): void {
    const key = `${to.host}:${to.port}`
    let sock = this.tcpConns.get(key)
    if (!sock || sock.destroyed) {
      sock = net.connect(to.port, to.host)
      this.adoptTcp(sock, { host: to.host, port: to.port, transport: 'tcp' })
    }
    sock.write(text)
  }

  /** Frames SIP messages on a TCP stream by Content-Length and feeds them to the stack as coming from `peer`. */
  private adoptTcp(sock: net.Socket, peer: Peer): void {
    const key = `${peer.host}:${peer.port}`
    this.tcpConns.set(key, sock)
    let buf = Buffer.alloc(0)
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      for (;;) {
        while (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) buf = buf.subarray(2) // keep-alives
        const end = buf.indexOf('\r\n\r\n')
        if (end === -1) return
        const head = buf.toString('utf8', 0, end)
        const m = /^(?:content-length|l)\s*:\s*(\d+)/im.exec(head)
        const total = end + 4 + (m ? Number(m[1]) : 0)
        if (buf.length < total) return
        const one = buf.subarray(0, total)
        buf = buf.subarray(total)
        this.onSip(one, peer)
      }
    })
    sock.on('error', (err) => this.emit('sip-error', err))
    sock.on('close', () => {
      if (this.tcpConns.get(key) === sock) this.tcpConns.delete(key)
    })
  }

  private onSip(buf: Buffer, source: Peer): void {
    const raw = buf.toString('utf8')
    if (raw.trim() === '') return // keep-alive
    let msg: SipMessage
    try {
      msg = parseSip(raw)
    } catch (err) {
      this.emit('sip-error', err)
      return
    }
    if (msg.isResponse) this.onNetworkResponse(msg, raw, source, buf.length)
    else this.onNetworkRequest(msg, raw, source, buf.length)
  }

  private onNetworkResponse(msg: SipMessage, raw: string, source: Peer, bytes: number): void {
    const branch = branchOf(header(msg, 'via'))
    const { method } = cseqOf(msg)
    const txn = this.clientByKey.get(`${branch}|${method}`)
    if (!txn) return // "processMessageStatelessly - unknown response"
    this.onClientResponse(txn, msg, raw, source, bytes)
  }

  private onClientResponse(txn: ClientTxn, msg: SipMessage, raw: string, source: Peer, bytes: number): void {
    const status = msg.status
    if (status < 200) {
      txn.provisional = true
      if (status === 100 || txn.swallow || txn.final) return
      if (txn.reInvite && (this.opts.reinviteProvisionalBug ?? true)) {
        // the real server forwards the provisional, drops its request record, then discards the 2xx as unknown
        this.tellApp(txn, raw, source, bytes)
        this.clearClientTimers(txn)
        this.clientByKey.delete(`${txn.branch}|${txn.method}`)
        this.clientById.delete(txn.txnId)
        return
      }
      const early = txn.method === 'INVITE' && txn.dialogId ? this.dialogs.get(txn.dialogId) : undefined
      const remoteTag = tagOf(header(msg, 'to'))
      if (early?.state === 'early' && remoteTag && !early.remoteTag) {
        // an early dialog: a PRACK (or UPDATE) from the app goes to its target, with its tag (n-uac-100rel-prack)
        early.remoteTag = remoteTag
        early.remote = header(msg, 'to') ?? early.remote
        const contact = header(msg, 'contact')
        if (contact) early.remoteTarget = uriOf(contact)
      }
      this.tellApp(txn, raw, source, bytes)
      return
    }
    const d = txn.dialogId ? this.dialogs.get(txn.dialogId) : undefined
    if (txn.final) {
      // A retransmitted final: re-ACK on our own, the app is not told (m-uac-200-retransmitted).
      if (txn.method === 'INVITE') {
        if (status >= 300 && txn.ackText) this.transmit(txn.ackText, txn.dest)
        else if (status < 300 && d?.lastAck) this.transmit(d.lastAck, d.peer)
      }
      return
    }
    txn.final = status
    this.forgetClient(txn, 64 * this.t1)
    if (txn.method === 'INVITE') {
      if (status >= 300) {
        txn.ackText = this.ackForNon2xx(txn, msg)
        if (source.port !== 0) this.transmit(txn.ackText, txn.dest)
        if (d && d.state === 'early') d.state = 'failed'
        // A failed dialog id lingers only so the app's own ACK gets its NOK.
        if (d && d.state === 'failed') this.later(() => this.dialogs.get(d.id) === d && this.removeDialog(d), 32 * this.t1)
      } else if (d) {
        if (d.state === 'early') {
          d.remoteTag = tagOf(header(msg, 'to')) ?? ''
          d.remote = header(msg, 'to') ?? d.remote
          const contact = header(msg, 'contact')
          if (contact) {
            d.remoteTarget = uriOf(contact)
            // in-dialog requests go to the remote target, unless an outbound proxy carried the INVITE
            if (!d.viaProxy) d.peer = { ...hostPortOf(d.remoteTarget), transport: protoOf(d.peer) }
          }
          d.state = 'confirmed'
          this.dialogsByLeg.set(`${d.callId}|${d.localTag}`, d)
        }
      }
    }
    if (txn.method === 'BYE' && d) this.removeDialog(d)
    if (txn.swallow) return
    this.tellApp(txn, raw, source, bytes)
    const initialInvite = txn.method === 'INVITE' && d !== undefined && d.inviteCseq === cseqOf(txn.msg).seq && !txn.reInvite
    if (initialInvite && status < 300) this.cdr('start', 'network', raw, 'uac')
    else if (initialInvite) this.cdr('stop', 'network', raw, status === 487 ? 'call-canceled' : 'call-rejected')
  }

  private ackForNon2xx(txn: ClientTxn, res: SipMessage): string {
    const m = txn.msg
    return [
      `ACK ${m.uri} SIP/2.0`,
      `Via: ${header(m, 'via')}`,
      'Max-Forwards: 70',
      `From: ${header(m, 'from')}`,
      `To: ${header(res, 'to')}`,
      `Call-ID: ${header(m, 'call-id')}`,
      `CSeq: ${cseqOf(m).seq} ACK`,
      'Content-Length: 0',
    ].join(CRLF) + CRLF + CRLF
  }

  private tellApp(txn: ClientTxn, raw: string, source: Peer, bytes: number): void {
    const proto = protoOf(txn.dest)
    this.send(
      txn.conn,
      `sip|network|${bytes}|${proto}|${source.host}|${source.port}|${wireTime()}|${txn.txnId}|${txn.dialogId}|${CRLF}${raw}`,
    )
  }

  /** sofia fills in `rport` on the top Via of every request it receives. */
  private withRport(raw: string, source: Peer): string {
    const lines = raw.split(CRLF)
    const i = lines.findIndex((l, idx) => idx > 0 && /^(via|v)\s*:/i.test(l))
    if (i === -1) return raw
    const line = lines[i]!
    if (/;\s*rport=\d+/i.test(line)) return raw
    lines[i] = /;\s*rport(?=;|$|\s)/i.test(line) ? line.replace(/;\s*rport(?=;|$|\s)/i, `;rport=${source.port}`) : `${line};rport=${source.port}`
    return lines.join(CRLF)
  }

  private respondStateless(req: SipMessage, source: Peer, status: number, reason: string, toTag?: string): string {
    const to = header(req, 'to') ?? ''
    const text = [
      `SIP/2.0 ${status} ${reason}`,
      ...headersNamed(req, 'via').map((v) => `Via: ${v}`),
      `From: ${header(req, 'from')}`,
      `To: ${toTag ? withTag(to, toTag) : to}`,
      `Call-ID: ${header(req, 'call-id')}`,
      `CSeq: ${header(req, 'cseq')}`,
      'Content-Length: 0',
    ].join(CRLF) + CRLF + CRLF
    this.transmit(text, source)
    return text
  }

  private pickConn(method: string): AdminConn | undefined {
    const verb = method.toLowerCase()
    const candidates = [...this.conns.values()].filter((c) => c.routes.includes(verb))
    if (candidates.length === 0) return undefined
    return candidates[this.roundRobin++ % candidates.length]
  }

  private onNetworkRequest(msg: SipMessage, raw: string, source: Peer, bytes: number): void {
    const method = msg.method
    const branch = branchOf(header(msg, 'via')) ?? ''
    const forwarded = this.withRport(raw, source)
    const fwdMsg = parseSip(forwarded)

    if (method === 'CANCEL') return this.onNetworkCancel(fwdMsg, forwarded, source, bytes, branch)
    if (method === 'ACK') return this.onNetworkAck(fwdMsg, forwarded, source, bytes, branch)

    const existing = this.serverByKey.get(`${branch}|${method}`)
    if (existing) {
      // A retransmission: answer with what we sent last, or drop it while the app has not answered.
      if (existing.lastResponse) this.transmit(existing.lastResponse, source)
      return
    }

    const callId = header(msg, 'call-id') ?? ''
    const toTag = tagOf(header(msg, 'to'))
    if (toTag) {
      if (method === 'INVITE') this.respondStateless(fwdMsg, source, 100, 'Trying')
      const d = this.dialogsByLeg.get(`${callId}|${toTag}`)
      if (!d || d.conn.socket.destroyed) {
        this.respondStateless(fwdMsg, source, 481, 'Call/Transaction Does Not Exist', toTag)
        return
      }
      const txn = this.addServerTxn(msg, fwdMsg, forwarded, bytes, source, branch, d.conn)
      txn.dialog = d
      txn.toTag = toTag
      txn.inDialog = true
      this.send(
        d.conn,
        `sip|network|${bytes}|${protoOf(source)}|${source.host}|${source.port}|${wireTime()}|${txn.txnId}|${d.id}|${CRLF}${forwarded}`,
      )
      if (method === 'BYE') this.cdr('stop', 'network', forwarded, 'normal-release')
      return
    }

    if (method === 'BYE' || method === 'UPDATE') {
      this.respondStateless(fwdMsg, source, 481, 'Call/Transaction Does Not Exist', token(13))
      return
    }
    if (!ROUTABLE.has(method)) return // e.g. REFER out of dialog: dropped silently (h4)
    if (method === 'INVITE') this.respondStateless(fwdMsg, source, 100, 'Trying')
    const conn = this.pickConn(method)
    if (!conn) {
      this.respondStateless(fwdMsg, source, 503, 'Service Unavailable', token(13))
      return
    }
    const txn = this.addServerTxn(msg, fwdMsg, forwarded, bytes, source, branch, conn)
    this.send(
      conn,
      `sip|network|${bytes}|${protoOf(source)}|${source.host}|${source.port}|${wireTime()}|${txn.txnId}||${this.host}|${this.sipPort}|${CRLF}${forwarded}`,
    )
    if (method === 'INVITE') this.cdr('attempt', 'network', forwarded)
  }

  private addServerTxn(
    msg: SipMessage, fwdMsg: SipMessage, forwarded: string, bytes: number, source: Peer, branch: string, conn: AdminConn,
  ): ServerTxn {
    const txn: ServerTxn = {
      txnId: randomUUID(), branch, method: msg.method, msg: fwdMsg, forwarded, bytes, source, conn, final: 0,
      inDialog: false,
    }
    this.serverByKey.set(`${branch}|${msg.method}`, txn)
    this.serverById.set(txn.txnId, txn)
    return txn
  }

  private onNetworkCancel(msg: SipMessage, forwarded: string, source: Peer, bytes: number, branch: string): void {
    const invite = this.serverByKey.get(`${branch}|INVITE`)
    if (!invite || invite.final >= 200 || !invite.conn) {
      this.respondStateless(msg, source, 481, 'Call/Transaction Does Not Exist', token(13))
      return
    }
    // The stack answers both by itself; the app only hears of the CANCEL (h1, h2).
    const hadProvisional = invite.toTag !== undefined
    // With no provisional sent yet, the 200 to the CANCEL and the 487 get different To-tags (h2).
    this.respondStateless(msg, source, 200, 'OK', invite.toTag ?? token(13))
    const toTag = invite.toTag ?? token(13)
    invite.toTag = toTag
    invite.final = 487
    this.forgetServer(invite, 32 * this.t1)
    invite.lastResponse = this.respondStateless(invite.msg, invite.source, 487, 'Request Terminated', toTag)
    this.serverById.delete(invite.txnId)
    const dialogId = invite.dialog?.id ?? ''
    if (invite.dialog) this.removeDialog(invite.dialog)
    // Quirk (h1): once the app had sent a provisional, the CANCEL is reported with the INVITE's size.
    const size = hadProvisional ? invite.bytes : bytes
    this.send(
      invite.conn,
      `sip|network|${size}|${protoOf(source)}|${source.host}|${source.port}|${wireTime()}|${invite.txnId}|${dialogId}|${CRLF}${forwarded}`,
    )
    this.cdr('stop', 'network', forwarded, 'call-canceled')
  }

  private onNetworkAck(msg: SipMessage, forwarded: string, source: Peer, bytes: number, branch: string): void {
    const invite = this.serverByKey.get(`${branch}|INVITE`)
    if (invite && invite.final >= 300) return // ACK to our non-2xx: absorbed (h1, h3)
    const callId = header(msg, 'call-id') ?? ''
    const toTag = tagOf(header(msg, 'to')) ?? ''
    const d = this.dialogsByLeg.get(`${callId}|${toTag}`)
    const txn = d?.awaitingAck
    if (!d || !txn) return // stray ACK: dropped
    d.awaitingAck = undefined
    this.clearServerTimers(txn)
    this.forgetServer(txn, 32 * this.t1)
    // ACK of the initial INVITE carries that INVITE's transaction id; a re-INVITE's ACK a fresh one (e, h5).
    const txnId = txn.inDialog ? randomUUID() : txn.txnId
    this.send(d.conn, `sip|network|${bytes}||${source.host}|${source.port}|${wireTime()}|${txnId}|${d.id}|${CRLF}${forwarded}`)
  }
}

/** Starts a double on free loopback ports. */
export async function startDrachtioDouble(opts: DrachtioDoubleOptions): Promise<DrachtioDouble> {
  return new DrachtioDouble(opts).start()
}
