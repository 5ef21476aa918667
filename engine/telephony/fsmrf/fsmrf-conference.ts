/**
 * Whisper and barge through FreeSWITCH with drachtio-fsmrf 4.1 (issue 5 §7), the SupervisorConference of
 * DrachtioSupervision. Customers and agents are joined by media alone in rtpengine; for a whisper or barge both are
 * moved into a FreeSWITCH conference: the customer's engine side and the agent session's engine side are re-offered
 * to rtpengine as two conference legs (no SIP to the carrier or the agent's phone), and the supervisor's phone is
 * called with a third leg's SDP (3pcc: FreeSWITCH's offer, the phone's answer given back with a re-INVITE). Whisper:
 * `conference <name> relate <customer> <supervisor> nohear`, so only the agent hears the supervisor; barge: nobody is
 * kept from hearing anyone. Ending puts the customer and the agent back into rtpengine's direct join and ends every
 * leg and the conference.
 */
import Mrf from 'drachtio-fsmrf'
import type { Logger } from 'pino'
import { sdpAt } from '../rtpengine/rtpengine-anchor.js'
import type { SupervisorConference } from '../drachtio/supervisor-listen.js'
import type { DrachtioConnection } from '../drachtio/connection.js'
import { createUac, isUacFailure, type UacDialog } from '../drachtio/uac.js'
import { SupervisionRefused, type SupervisionMode } from '../supervisor/supervision.js'

/** What the conference needs of the media anchor (RtpengineAnchor) and of the call's bridge. */
export interface ConferenceMedia {
  engineFacing(callId: string): { host: string; port: number } | undefined
  redirectTo(callId: string, sdp: string): Promise<void>
  join(callA: string, callB: string): Promise<void>
}

export interface FsmrfConferenceOptions {
  connection: DrachtioConnection
  media: ConferenceMedia
  /** The agent session a live call is joined to (DrachtioTelephony.liveCall + AgentSessions.sessionId). */
  sessionOf(callId: string): string | undefined
  /** FreeSWITCH's event socket and where its outbound connections reach us. */
  freeswitch: { address: string; port: number; secret: string; listenAddress?: string; listenPort?: number }
  logger: Logger
}

interface Leg {
  ep: Mrf.Endpoint
  memberId: number
}

export class FsmrfConference implements SupervisorConference {
  private ms: Mrf.MediaServer | undefined
  private readonly log: Logger
  private seq = 0

  constructor(private readonly opts: FsmrfConferenceOptions) {
    this.log = opts.logger.child({ component: 'fsmrf' })
  }

  /** Connects to FreeSWITCH's event socket; drachtio-fsmrf rejects when it is unreachable or refuses the secret. */
  async connect(): Promise<void> {
    const fs = this.opts.freeswitch
    const mrf = new Mrf(this.opts.connection.srf)
    this.ms = await mrf.connect({
      address: fs.address,
      port: fs.port,
      secret: fs.secret,
      ...(fs.listenAddress ? { listenAddress: fs.listenAddress } : {}),
      ...(fs.listenPort ? { listenPort: fs.listenPort } : {}),
    })
    this.log.info({ freeswitch: `${fs.address}:${fs.port}` }, 'connected to FreeSWITCH')
  }

  private async api(ms: Mrf.MediaServer, command: string): Promise<void> {
    const res = await ms.api(command)
    if (!res.startsWith('+OK')) throw new Error(`FreeSWITCH refused \`${command}\`: ${res.trim()}`)
  }

  close(): void {
    this.ms?.disconnect()
    this.ms = undefined
  }

  async start(
    callId: string,
    mode: Exclude<SupervisionMode, 'listen'>,
    phone: { uri: string; proxy?: string },
  ): Promise<{ end(): Promise<void>; onEnded(listener: () => void): void }> {
    const ms = this.ms
    if (!ms) throw new SupervisionRefused('FreeSWITCH is not connected')
    const sessionId = this.opts.sessionOf(callId)
    if (!sessionId) throw new SupervisionRefused(`call ${callId} is not with an agent: nobody to ${mode} to`)
    const customerAt = this.opts.media.engineFacing(callId)
    const agentAt = this.opts.media.engineFacing(sessionId)
    if (!customerAt || !agentAt) throw new SupervisionRefused(`call ${callId} has no media to move into a conference`)
    const log = this.log.child({ callId, sessionId, mode })
    const name = `cadence-${callId}-${++this.seq}`
    const made: Mrf.Endpoint[] = []
    let conference: Mrf.Conference | undefined
    let dialog: UacDialog | undefined
    let moved = false
    let ended = false
    const listeners: Array<() => void> = []

    const end = async (): Promise<void> => {
      if (ended) return
      ended = true
      const d = dialog
      dialog = undefined
      if (d) {
        d.removeAllListeners('destroy')
        d.destroy({}, (err) => {
          if (err) log.warn({ err: String(err) }, 'BYE to the supervisor phone not sent')
        })
      }
      // the customer and the agent hear each other through rtpengine again before their conference legs go; a call
      // that ended is not (the telephony adapter sends the agent session back to its own endpoint itself)
      if (moved && this.opts.sessionOf(callId) === sessionId) {
        await this.opts.media.join(callId, sessionId).catch((err: unknown) => log.warn({ err: errText(err) }, 'customer and agent not joined back (the call ended?)'))
      }
      await Promise.all(made.map((ep) => ep.destroy().catch((err: unknown) => log.warn({ err: errText(err) }, 'conference leg not ended'))))
      if (conference) await conference.destroy().catch((err: unknown) => log.warn({ err: errText(err) }, 'conference not ended'))
    }

    try {
      conference = await ms.createConference(name)
      const leg = async (remoteSdp?: string): Promise<Leg> => {
        const ep = await ms.createEndpoint(remoteSdp ? { remoteSdp } : {})
        made.push(ep)
        const { memberId } = await ep.join(name)
        return { ep, memberId }
      }
      const customer = await leg(sdpAt(customerAt, `conf-${callId}`))
      const agent = await leg(sdpAt(agentAt, `conf-${sessionId}`))
      // the supervisor's leg: FreeSWITCH's offer goes to the phone, the phone's answer back to FreeSWITCH
      const sup = await ms.createEndpoint()
      made.push(sup)
      dialog = await createUac(
        this.opts.connection.srf,
        phone.uri,
        { localSdp: sup.local.sdp, headers: { 'X-Cadence-Call-Id': callId }, ...(phone.proxy ? { proxy: phone.proxy } : {}) },
        () => undefined,
        () => undefined,
      )
      dialog.on('destroy', () => {
        dialog = undefined
        log.info('supervisor hung up')
        for (const l of listeners) l()
      })
      await sup.modify(dialog.remote.sdp ?? '')
      // a whisperer joins muted and speaks only once the customer is kept from hearing them
      const supervisor = await sup.join(name, mode === 'whisper' ? { flags: { mute: true } } : {})
      if (mode === 'whisper') {
        await this.api(ms, `conference ${name} relate ${customer.memberId} ${supervisor.memberId} nohear`)
        await this.api(ms, `conference ${name} unmute ${supervisor.memberId}`)
      }
      moved = true
      await this.opts.media.redirectTo(callId, customer.ep.local.sdp)
      await this.opts.media.redirectTo(sessionId, agent.ep.local.sdp)
      log.info({ conference: name, members: { customer: customer.memberId, agent: agent.memberId, supervisor: supervisor.memberId } }, `${mode} up`)
    } catch (err) {
      log.warn({ err: errText(err) }, `${mode} not set up; undoing`)
      await end()
      if (err instanceof SupervisionRefused) throw err
      if (isUacFailure(err)) throw new SupervisionRefused(`the supervisor's phone did not answer (SIP ${err.status})`, err.status)
      throw new SupervisionRefused(`${mode} not set up: ${errText(err)}`)
    }
    return { end, onEnded: (l) => void listeners.push(l) }
  }
}

function errText(err: unknown): string {
  if (err instanceof Error) return err.message
  return typeof err === 'string' ? err : JSON.stringify(err)
}
