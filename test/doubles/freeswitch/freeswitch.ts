/**
 * A FreeSWITCH double for drachtio-fsmrf 4.1.2 (through drachtio-modesl 1.3): only what engine/telephony/fsmrf uses,
 * built from those two libraries' source. See README.md beside it for what is faithful and what is not.
 *
 * - Inbound event socket (TCP): `auth/request`, `auth <password>` (+OK accepted / -ERR invalid, then close),
 *   `event json ...`, `filter ...`, `api sofia status` (one `drachtio_mrf` profile line naming our SIP port),
 *   `api conference <name> list count|relate <a> <b> nohear|clear|mute <id>|unmute <id>`.
 * - SIP over UDP as mod_sofia answers drachtio: INVITE with or without SDP (3pcc: our 200 carries the offer) answered
 *   200 with our SDP; re-INVITE updates the far end's media; BYE ends the channel; ACK is taken as it comes.
 * - Outbound event socket: for each answered INVITE we connect to its `X-esl-outbound`, answer `connect` with the
 *   CHANNEL_DATA reply (Channel-Unique-ID, variable_sip_user_agent, variable_rtp_local_sdp_str...), take
 *   `event json`, `filter`, `api`, and `sendmsg` executes: `conference <name>[+flags{...}]` (CUSTOM
 *   conference::maintenance add-member, with Member-ID and Conference-Unique-ID), `hangup` (our BYE to drachtio,
 *   CHANNEL_HANGUP, the socket closed), anything else CHANNEL_EXECUTE_COMPLETE.
 * - Media: no mixing. Each RTP packet a conference member sends is forwarded unchanged to every other member that may
 *   hear it (members joined with `mute` are not heard; `relate a b nohear`: a does not hear b), and counted per
 *   (speaker, listener) so tests can see who heard whom.
 */
import { randomUUID } from 'node:crypto'
import dgram from 'node:dgram'
import net from 'node:net'
import { CRLF, header, parseSip, type SipMessage } from '../drachtio/sip-message.js'

interface Channel {
  uuid: string
  callId: string
  /** drachtio's From header (with its tag) and our To (with ours). */
  from: string
  to: string
  /** Where drachtio sends from, and the Contact to send our BYE to. */
  peer: { host: string; port: number }
  contact: string
  userAgent: string
  media: dgram.Socket
  remoteMedia?: { host: string; port: number }
  esl?: net.Socket
  conference?: { name: string; memberId: number; muted: boolean }
  cseq: number
  hungUp: boolean
}

interface Conference {
  uuid: string
  /** memberId -> channel uuid */
  members: Map<number, string>
  /** `${listener}>${speaker}`: listener does not hear speaker */
  nohear: Set<string>
}

/** ESL headers: values URL-encoded as FreeSWITCH sends them (drachtio-modesl decodes every value). */
function eslHeaders(h: Record<string, string | number>): string {
  return Object.entries(h)
    .map(([k, v]) => `${k}: ${encodeURIComponent(String(v))}`)
    .join('\n')
}

function reply(text: string): string {
  return `Content-Type: command/reply\nReply-Text: ${encodeURIComponent(text)}\n\n`
}

function apiResponse(body: string): string {
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`
}

function eventJson(e: Record<string, string>): string {
  const body = JSON.stringify(e)
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`
}

/** Splits an ESL command stream into commands (each ends with a blank line). */
function commandReader(onCommand: (lines: string[]) => void): (chunk: Buffer) => void {
  let buf = ''
  return (chunk) => {
    buf += chunk.toString('utf8')
    for (let end = buf.indexOf('\n\n'); end !== -1; end = buf.indexOf('\n\n')) {
      const text = buf.slice(0, end)
      buf = buf.slice(end + 2)
      if (text.trim() !== '') onCommand(text.split('\n'))
    }
  }
}

function audioOf(sdp: string): { host: string; port: number } | undefined {
  const c = /^c=IN IP4 (\S+)/m.exec(sdp)
  const m = /^m=audio (\d+) /m.exec(sdp)
  return c && m ? { host: c[1]!, port: Number(m[1]) } : undefined
}

export class FreeSwitchDouble {
  readonly channels = new Map<string, Channel>()
  readonly conferences = new Map<string, Conference>()
  /** Every `api` command received (inbound and outbound sockets), for assertions. */
  readonly apiLog: string[] = []
  /** Packets forwarded, by `${speaker uuid}>${listener uuid}`. */
  readonly forwarded = new Map<string, number>()
  private readonly inbound = new Set<net.Socket>()
  private nextMember = 1

  private constructor(
    private readonly esl: net.Server,
    private readonly sip: dgram.Socket,
    private readonly password: string,
  ) {}

  static async start(opts: { password?: string } = {}): Promise<FreeSwitchDouble> {
    const sip = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => sip.bind(0, '127.0.0.1', resolve))
    const server = net.createServer()
    const fs = new FreeSwitchDouble(server, sip, opts.password ?? 'ClueCon')
    server.on('connection', (s) => fs.onInbound(s))
    sip.on('message', (msg, rinfo) => fs.onSip(msg.toString('utf8'), { host: rinfo.address, port: rinfo.port }))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return fs
  }

  get eslPort(): number {
    return (this.esl.address() as net.AddressInfo).port
  }

  get sipPort(): number {
    return this.sip.address().port
  }

  /** Packets `speaker` sent that reached `listener` through the conference. */
  heard(listener: string, speaker: string): number {
    return this.forwarded.get(`${speaker}>${listener}`) ?? 0
  }

  async close(): Promise<void> {
    for (const ch of this.channels.values()) this.drop(ch)
    for (const s of this.inbound) s.destroy()
    await new Promise<void>((resolve) => this.esl.close(() => resolve()))
    this.sip.close()
  }

  // ---- inbound event socket

  private onInbound(s: net.Socket): void {
    this.inbound.add(s)
    s.on('close', () => this.inbound.delete(s))
    s.on('error', () => undefined)
    let authed = false
    s.write('Content-Type: auth/request\n\n')
    s.on(
      'data',
      commandReader((lines) => {
        const cmd = lines[0]!
        if (!authed) {
          if (cmd === `auth ${this.password}`) {
            authed = true
            s.write(reply('+OK accepted'))
          } else {
            s.write(reply('-ERR invalid'))
            s.end()
          }
          return
        }
        if (cmd.startsWith('api ')) s.write(apiResponse(this.api(cmd.slice(4))))
        else if (cmd.startsWith('event ')) s.write(reply(`+OK event listener enabled ${cmd.split(' ')[1]}`))
        else if (cmd.startsWith('filter ')) s.write(reply(`+OK filter added. [${cmd.slice(7)}]`))
        else if (cmd === 'exit') s.end(reply('+OK bye'))
        else s.write(reply('-ERR command not found'))
      }),
    )
  }

  private api(command: string): string {
    this.apiLog.push(command)
    const args = command.trim().split(/\s+/)
    if (args[0] === 'sofia' && args[1] === 'status') {
      return [
        '                     Name\t   Type\t                                      Data\t      State',
        '=================================================================================================',
        `             drachtio_mrf\tprofile\t           sip:mod_sofia@127.0.0.1:${this.sipPort}\tRUNNING (0)`,
        '=================================================================================================',
        '1 profile 0 aliases',
        '',
      ].join('\n')
    }
    if (args[0] === 'conference') {
      const name = args[1] ?? ''
      const conf = this.conferences.get(name)
      if (!conf) return `-ERR Conference ${name} not found\n`
      if (args[2] === 'list' && args[3] === 'count') return `${conf.members.size}\n`
      if (args[2] === 'relate' && args.length === 6) {
        const [a, b, what] = [Number(args[3]), Number(args[4]), args[5]]
        const ua = conf.members.get(a)
        const ub = conf.members.get(b)
        if (!ua || !ub) return '-ERR member not found\n'
        if (what === 'nohear') conf.nohear.add(`${ua}>${ub}`)
        else if (what === 'clear') conf.nohear.delete(`${ua}>${ub}`)
        else return `-ERR relate ${what} not supported by this double\n`
        return `+OK ${a} now ${what === 'clear' ? 'hears' : 'cannot hear'} ${b}\n`
      }
      if ((args[2] === 'mute' || args[2] === 'unmute') && args.length === 4) {
        const uuid = conf.members.get(Number(args[3]))
        const ch = uuid ? this.channels.get(uuid) : undefined
        if (!ch?.conference) return '-ERR member not found\n'
        ch.conference.muted = args[2] === 'mute'
        return `+OK ${args[2]} ${args[3]}\n`
      }
      return `-ERR conference ${args.slice(2).join(' ')} not supported by this double\n`
    }
    return `-ERR ${args[0]} Command not found!\n`
  }

  // ---- SIP (mod_sofia's drachtio_mrf profile)

  private send(text: string, to: { host: string; port: number }): void {
    this.sip.send(text, to.port, to.host)
  }

  private respond(req: SipMessage, peer: { host: string; port: number }, status: number, reason: string, toWithTag: string, sdp?: string): void {
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...req.headers.filter(([n]) => /^via$/i.test(n)).map(([n, v]) => `${n}: ${v}`),
      `From: ${header(req, 'from')}`,
      `To: ${toWithTag}`,
      `Call-ID: ${header(req, 'call-id')}`,
      `CSeq: ${header(req, 'cseq')}`,
      `Contact: <sip:drachtio@127.0.0.1:${this.sipPort}>`,
      'Server: FreeSWITCH double',
      ...(sdp ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${sdp ? Buffer.byteLength(sdp) : 0}`,
      '',
      sdp ?? '',
    ]
    this.send(lines.join(CRLF), peer)
  }

  private onSip(raw: string, peer: { host: string; port: number }): void {
    let msg: SipMessage
    try {
      msg = parseSip(raw)
    } catch {
      return
    }
    if (msg.isResponse) return // our BYE's 200
    const callId = header(msg, 'call-id') ?? ''
    const ch = [...this.channels.values()].find((c) => c.callId === callId)
    if (msg.method === 'INVITE' && !ch) return void this.onInvite(msg, peer)
    if (!ch) {
      if (msg.method !== 'ACK') this.respond(msg, peer, 481, 'Call/Transaction Does Not Exist', header(msg, 'to') ?? '')
      return
    }
    if (msg.method === 'INVITE') {
      // re-INVITE: the far end moved its media (or answers our 3pcc offer)
      const at = msg.body ? audioOf(msg.body) : undefined
      if (at) ch.remoteMedia = at
      this.respond(msg, peer, 200, 'OK', ch.to, this.localSdp(ch))
    } else if (msg.method === 'BYE') {
      this.respond(msg, peer, 200, 'OK', ch.to)
      this.hangup(ch, 'NORMAL_CLEARING', false)
    } else if (msg.method === 'ACK') {
      const at = msg.body ? audioOf(msg.body) : undefined
      if (at) ch.remoteMedia = at
    } else {
      this.respond(msg, peer, 200, 'OK', ch.to)
    }
  }

  private onInvite(msg: SipMessage, peer: { host: string; port: number }): void {
    const outbound = header(msg, 'x-esl-outbound')
    const userAgent = header(msg, 'user-agent') ?? ''
    const media = dgram.createSocket('udp4')
    const ch: Channel = {
      uuid: randomUUID(),
      callId: header(msg, 'call-id') ?? '',
      from: header(msg, 'from') ?? '',
      to: `${header(msg, 'to') ?? ''};tag=fs-${randomUUID().slice(0, 8)}`,
      peer,
      contact: /<([^>]+)>/.exec(header(msg, 'contact') ?? '')?.[1] ?? `sip:${peer.host}:${peer.port}`,
      userAgent,
      media,
      cseq: 1,
      hungUp: false,
    }
    const at = msg.body ? audioOf(msg.body) : undefined
    if (at) ch.remoteMedia = at
    media.on('message', (pkt) => this.onRtp(ch, pkt))
    media.bind(0, '127.0.0.1', () => {
      this.channels.set(ch.uuid, ch)
      this.respond(msg, peer, 200, 'OK', ch.to, this.localSdp(ch))
      // the dialplan's `socket` app: FreeSWITCH connects to the application named in X-esl-outbound
      if (outbound) this.connectOutbound(ch, outbound)
    })
  }

  private localSdp(ch: Channel): string {
    const port = ch.media.address().port
    return ['v=0', `o=FreeSWITCH 1 2 IN IP4 127.0.0.1`, 's=FreeSWITCH', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join(CRLF)
  }

  private sendBye(ch: Channel): void {
    const target = /^sip:(?:[^@]*@)?([^:;>]+)(?::(\d+))?/.exec(ch.contact)
    const to = target ? { host: target[1]!, port: Number(target[2] ?? 5060) } : ch.peer
    const lines = [
      `BYE ${ch.contact} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.sipPort};branch=z9hG4bK-fs-${randomUUID().slice(0, 12)};rport`,
      `From: ${ch.to}`,
      `To: ${ch.from}`,
      `Call-ID: ${ch.callId}`,
      `CSeq: ${++ch.cseq + 100} BYE`,
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ]
    this.send(lines.join(CRLF), to)
  }

  // ---- outbound event socket (one per channel)

  private connectOutbound(ch: Channel, where: string): void {
    const [host, port] = where.split(':')
    const s = net.createConnection({ host: host!, port: Number(port) })
    ch.esl = s
    s.on('error', () => undefined)
    s.on(
      'data',
      commandReader((lines) => {
        const cmd = lines[0]!
        if (cmd === 'connect') s.write(this.channelData(ch))
        else if (cmd.startsWith('event ')) s.write(reply(`+OK event listener enabled ${cmd.split(' ')[1]}`))
        else if (cmd.startsWith('filter ')) s.write(reply(`+OK filter added. [${cmd.slice(7)}]`))
        else if (cmd === 'myevents' || cmd === 'linger') s.write(reply('+OK'))
        else if (cmd.startsWith('api ')) s.write(apiResponse(this.api(cmd.slice(4))))
        else if (cmd.startsWith('sendmsg')) this.sendmsg(ch, lines.slice(1))
        else if (cmd === 'exit') s.end(reply('+OK bye'))
        else s.write(reply('-ERR command not found'))
      }),
    )
  }

  private channelData(ch: Channel): string {
    const remote = ch.remoteMedia
    return (
      eslHeaders({
        'Content-Type': 'command/reply',
        'Reply-Text': '+OK',
        'Event-Name': 'CHANNEL_DATA',
        'Unique-ID': ch.uuid,
        'Channel-Unique-ID': ch.uuid,
        'Channel-Call-State': 'ACTIVE',
        'Answer-State': 'answered',
        variable_sip_user_agent: ch.userAgent,
        variable_sip_call_id: ch.callId,
        variable_rtp_local_sdp_str: this.localSdp(ch),
        variable_local_media_ip: '127.0.0.1',
        variable_local_media_port: ch.media.address().port,
        ...(remote ? { variable_remote_media_ip: remote.host, variable_remote_media_port: remote.port } : {}),
        variable_dtmf_type: 'rfc2833',
      }) + '\n\n'
    )
  }

  private event(ch: Channel, e: Record<string, string>): void {
    if (ch.esl && !ch.esl.destroyed) ch.esl.write(eventJson({ 'Unique-ID': ch.uuid, ...e }))
  }

  private sendmsg(ch: Channel, lines: string[]): void {
    const h: Record<string, string> = {}
    for (const l of lines) {
      const i = l.indexOf(': ')
      if (i > 0) h[l.slice(0, i)] = l.slice(i + 2)
    }
    ch.esl?.write(reply('+OK'))
    const app = h['execute-app-name'] ?? ''
    const arg = h['execute-app-arg'] ?? ''
    const eventUuid = h['Event-UUID'] ?? ''
    const complete = (response: string): void =>
      this.event(ch, {
        'Event-Name': 'CHANNEL_EXECUTE_COMPLETE',
        Application: app,
        'Application-Data': arg,
        'Application-Response': response,
        'Application-UUID': eventUuid,
      })
    if (app === 'conference') this.join(ch, arg)
    else if (app === 'hangup') {
      complete('_none_')
      this.hangup(ch, arg || 'NORMAL_CLEARING', true)
    } else complete('_none_')
  }

  private join(ch: Channel, arg: string): void {
    const m = /^([^@+]+)(?:@[^+]*)?(?:\+[^+]*)?(?:\+flags\{([^}]*)\})?$/.exec(arg)
    const name = m?.[1] ?? arg
    const flags = (m?.[2] ?? '').split('|').filter(Boolean)
    let conf = this.conferences.get(name)
    if (!conf) {
      conf = { uuid: randomUUID(), members: new Map(), nohear: new Set() }
      this.conferences.set(name, conf)
    }
    const memberId = this.nextMember++
    conf.members.set(memberId, ch.uuid)
    ch.conference = { name, memberId, muted: flags.includes('mute') }
    this.event(ch, {
      'Event-Name': 'CUSTOM',
      'Event-Subclass': 'conference::maintenance',
      Action: 'add-member',
      'Conference-Name': name,
      'Conference-Unique-ID': conf.uuid,
      'Member-ID': String(memberId),
    })
  }

  private leave(ch: Channel): void {
    const c = ch.conference
    if (!c) return
    ch.conference = undefined
    const conf = this.conferences.get(c.name)
    if (!conf) return
    conf.members.delete(c.memberId)
    this.event(ch, {
      'Event-Name': 'CUSTOM',
      'Event-Subclass': 'conference::maintenance',
      Action: 'del-member',
      'Conference-Name': c.name,
      'Conference-Unique-ID': conf.uuid,
      'Member-ID': String(c.memberId),
    })
    // endconf members (the control leg) take the conference with them; an empty one is gone too
    if (conf.members.size === 0) this.conferences.delete(c.name)
  }

  /** Ends a channel: BYE to drachtio when we hang up, CHANNEL_HANGUP, the outbound socket closed. */
  private hangup(ch: Channel, cause: string, sendBye: boolean): void {
    if (ch.hungUp) return
    ch.hungUp = true
    this.leave(ch)
    if (sendBye) this.sendBye(ch)
    this.event(ch, { 'Event-Name': 'CHANNEL_HANGUP', 'Hangup-Cause': cause })
    this.drop(ch)
  }

  private drop(ch: Channel): void {
    this.channels.delete(ch.uuid)
    ch.esl?.end()
    try {
      ch.media.close()
    } catch {
      // already closed
    }
  }

  private onRtp(speaker: Channel, pkt: Buffer): void {
    const c = speaker.conference
    if (!c || c.muted) return
    const conf = this.conferences.get(c.name)
    if (!conf) return
    for (const uuid of conf.members.values()) {
      if (uuid === speaker.uuid || conf.nohear.has(`${uuid}>${speaker.uuid}`)) continue
      const listener = this.channels.get(uuid)
      if (!listener?.remoteMedia) continue
      listener.media.send(pkt, listener.remoteMedia.port, listener.remoteMedia.host)
      const k = `${speaker.uuid}>${uuid}`
      this.forwarded.set(k, (this.forwarded.get(k) ?? 0) + 1)
    }
  }
}

