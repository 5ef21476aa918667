/**
 * A fault injector in front of a real rtpengine: every ng datagram is relayed to the daemon and its reply back,
 * except the commands named, which are answered here with the given reply (as rtpengine answers an error: cookie,
 * space, bencoded dictionary). So one command can fail on cue while the rest of the call runs on the real daemon.
 */
import dgram from 'node:dgram'
import type { RtpengineAddress } from '../../../engine/telephony/rtpengine/ng-pool.js'

export interface NgFaults {
  address: RtpengineAddress
  /** Every command seen, in order. */
  seen: string[]
  close(): void
}

/** Just enough bencode for a flat dictionary of strings (keys sorted, as bencode wants). */
function bencodeDict(v: Record<string, string>): string {
  const keys = Object.keys(v).sort()
  return `d${keys.map((k) => `${Buffer.byteLength(k)}:${k}${Buffer.byteLength(v[k]!)}:${v[k]}`).join('')}e`
}

export async function ngFaults(target: RtpengineAddress, faults: Record<string, Record<string, string>>): Promise<NgFaults> {
  const front = dgram.createSocket('udp4')
  const back = dgram.createSocket('udp4')
  const waiting = new Map<string, dgram.RemoteInfo>()
  const seen: string[] = []
  front.on('message', (msg, from) => {
    const text = msg.toString('latin1')
    const space = text.indexOf(' ')
    const cookie = text.slice(0, space)
    const m = /7:command(\d+):/.exec(text)
    const command = m ? text.substr(m.index + m[0].length, Number(m[1])) : ''
    seen.push(command)
    const fault = faults[command]
    if (fault) {
      front.send(`${cookie} ${bencodeDict(fault)}`, from.port, from.address)
      return
    }
    waiting.set(cookie, from)
    back.send(msg, target.port, target.host)
  })
  back.on('message', (msg) => {
    const cookie = msg.toString('latin1', 0, msg.indexOf(0x20))
    const to = waiting.get(cookie)
    if (!to) return
    waiting.delete(cookie)
    front.send(msg, to.port, to.address)
  })
  await Promise.all([
    new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve)),
    new Promise<void>((resolve) => back.bind(0, '127.0.0.1', resolve)),
  ])
  return {
    address: { host: '127.0.0.1', port: front.address().port },
    seen,
    close() {
      front.close()
      back.close()
    },
  }
}
