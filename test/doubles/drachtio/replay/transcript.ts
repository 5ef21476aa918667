/**
 * Reads the captures in shared/research/drachtio-wire/transcripts and turns captured and replayed traffic into a
 * comparable shape: values that naturally differ between two runs (ids, tags, branches, Call-IDs, CSeq starts, ports,
 * byte counts, times) become numbered placeholders, numbered by first appearance, so that "the ACK carries the
 * INVITE's transaction id" or "the dialog id is Call-ID;from-tag=our tag" still has to hold, while 36 random
 * characters do not have to match.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Direction, RecordedFrame } from './wire-recorder.js'

/** Copies of shared/research/drachtio-wire/transcripts (captured 2026-11-23 from drachtio-server 9c2dd4cb6a). */
export const TRANSCRIPTS =
  process.env.DRACHTIO_TRANSCRIPTS ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'captures')

export interface SippEntry {
  dir: 'sent' | 'received'
  text: string
}

/** Frames of one connection of an admin transcript (`<name>.txt`), checked against their length prefixes. */
export function readAdminTranscript(name: string, conn = 1): RecordedFrame[] {
  const text = readFileSync(path.join(TRANSCRIPTS, `${name}.txt`), 'utf8')
  const frames: RecordedFrame[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^\[[^\]]+\] conn(\d+) (APP=>SRV|SRV=>APP) frame length-prefix=(\d+)/.exec(lines[i]!)
    if (!m) continue
    const payloadLines: string[] = []
    let j = i + 2 // skip the `N#` line
    while (j < lines.length && lines[j]!.startsWith('    ')) payloadLines.push(lines[j++]!.slice(4))
    // the blank separator line ends a frame; a payload's own empty lines are printed as four spaces
    const payload = payloadLines.join('\r\n')
    const expected = Number(m[3])
    if (Buffer.byteLength(payload, 'utf8') !== expected) {
      throw new Error(`${name}: frame at line ${i + 1} has ${Buffer.byteLength(payload, 'utf8')} bytes, prefix says ${expected}`)
    }
    if (Number(m[1]) === conn) frames.push({ conn, dir: m[2] as Direction, payload })
    i = j
  }
  return frames
}

/** A sipp `-trace_msg` log (also the format of the `<name>.sipp.txt` captures). */
export function parseSippTrace(text: string): SippEntry[] {
  const entries: SippEntry[] = []
  const blocks = text.split(/^-{20,} [^\n]*\n/m).slice(1)
  for (const block of blocks) {
    const m = /^(?:UDP|TCP) message (sent|received)[^\n]*\n\n?/.exec(block)
    if (!m) continue
    const body = block.slice(m[0].length).replace(/\r\n/g, '\n').replace(/\n+$/, '')
    entries.push({ dir: m[1] as 'sent' | 'received', text: body })
  }
  return entries
}

export function readSippTranscript(name: string): SippEntry[] {
  return parseSippTrace(readFileSync(path.join(TRANSCRIPTS, `${name}.sipp.txt`), 'utf8'))
}

/** Placeholder numbering shared by all messages of one run. */
export class Masker {
  private readonly maps = new Map<string, Map<string, number>>()

  ph(kind: string, value: string): string {
    let m = this.maps.get(kind)
    if (!m) this.maps.set(kind, (m = new Map()))
    let n = m.get(value)
    if (n === undefined) m.set(value, (n = m.size + 1))
    return `<${kind}${n}>`
  }

  /** Masks a SIP message (or any text) line by line. */
  text(s: string): string {
    return s
      .replace(/\r\n/g, '\n')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, (v) => this.ph('id', v))
      .replace(/\b\d+-\d+@127\.0\.0\.1\b/g, (v) => this.ph('id', v))
      .replace(/z9hG4bK[\w.\-~%!*+`']+/g, (v) => this.ph('branch', v))
      .replace(/(tag=)([^;,\s>|]+)/gi, (_m, k: string, v: string) => k + this.ph('tag', v))
      .replace(/(127\.0\.0\.1[:|])(\d+)/g, (_m, k: string, v: string) => k + this.ph('port', v))
      .replace(/(rport=)(\d+)/g, (_m, k: string, v: string) => k + this.ph('port', v))
      .replace(/^(cseq:\s*)(\d+)/gim, (_m, k: string, v: string) => k + this.ph('cseq', v))
      .replace(/^(rack:\s*\d+\s+)(\d+)/gim, (_m, k: string, v: string) => k + this.ph('cseq', v))
      .replace(/^(content-length:\s*)(\d+)/gim, '$1<len>')
      .replace(/^(m=audio )(\d+)/gm, '$1<rtp>')
      .replace(/((?:^|,)\s*(?:response|cnonce)=")[^"]*"/gi, '$1<digest>"')
  }

  /** One admin frame: the leader token by token, then the SIP part. */
  frame(f: RecordedFrame): string {
    const crlf = f.payload.indexOf('\r\n')
    const leader = crlf === -1 ? f.payload : f.payload.slice(0, crlf)
    const rest = crlf === -1 ? '' : f.payload.slice(crlf + 2)
    const tokens = leader.split('|')
    const isAuthReply = tokens[1] === 'response' && /^(tcp|udp|tls|ws|wss)\//.test(tokens[4] ?? '')
    const masked = tokens.map((tok, i) => {
      if (/^\d{2}:\d{2}:\d{2}\.\d{6}$/.test(tok)) return '<time>'
      if (isAuthReply && i === 5) return '<version>'
      if (tokens[1] === 'authenticate' && i === 2) return '<secret>'
      if (/^\d+$/.test(tok) && tokens[i - 1] === '127.0.0.1') return this.ph('port', tok)
      if (/^\d+$/.test(tok)) return '<n>'
      return this.text(tok)
    })
    return `${f.dir} ${masked.join('|')}${rest ? '\n' + this.text(rest) : ''}`
  }

  sipp(e: SippEntry): string {
    return `${e.dir}\n${this.text(e.text)}`
  }
}

/**
 * Masks a run: each direction in its own order (how the two streams interleave depends on timing, not on the
 * protocol), app frames first, then server frames, then the SIP seen by sipp, all sharing one numbering.
 */
export function maskRun(frames: RecordedFrame[], sipp: SippEntry[] = []): { app: string[]; srv: string[]; sip: string[] } {
  const m = new Masker()
  const app = frames.filter((f) => f.dir === 'APP=>SRV').map((f) => m.frame(f))
  const srv = frames.filter((f) => f.dir === 'SRV=>APP').map((f) => m.frame(f))
  const sip = sipp.map((e) => m.sipp(e))
  return { app, srv, sip }
}
