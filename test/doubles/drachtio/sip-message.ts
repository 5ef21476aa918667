/**
 * Just enough SIP text handling for the double: parse a message into start line, ordered headers and body,
 * read the few fields a stack needs (branch, tags, CSeq, URIs), and write headers the way sofia-sip spells them.
 * Network messages are forwarded to the app as received (drachtio passes the stack's copy, spacing kept), so the
 * raw text is kept alongside the parsed form.
 */

export const CRLF = '\r\n'

export interface SipMessage {
  raw: string
  startLine: string
  headers: Array<[string, string]>
  body: string
  isResponse: boolean
  method: string
  status: number
  reason: string
  uri: string
}

export function parseSip(raw: string): SipMessage {
  const split = raw.indexOf(CRLF + CRLF)
  const head = split === -1 ? raw : raw.slice(0, split)
  const body = split === -1 ? '' : raw.slice(split + 4)
  const lines = head.split(CRLF)
  const startLine = lines.shift() ?? ''
  const headers: Array<[string, string]> = []
  for (const line of lines) {
    if (line === '') continue
    if (/^[ \t]/.test(line) && headers.length > 0) {
      const last = headers[headers.length - 1]!
      last[1] += ' ' + line.trim()
      continue
    }
    const colon = line.indexOf(':')
    if (colon === -1) throw new Error(`malformed SIP header line: ${line}`)
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()])
  }
  const isResponse = startLine.startsWith('SIP/2.0 ')
  if (isResponse) {
    const m = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine)
    if (!m) throw new Error(`malformed status line: ${startLine}`)
    return { raw, startLine, headers, body, isResponse, method: '', status: Number(m[1]), reason: m[2] ?? '', uri: '' }
  }
  const m = /^([A-Za-z]+) (\S+) SIP\/2\.0$/.exec(startLine)
  if (!m) throw new Error(`malformed request line: ${startLine}`)
  return { raw, startLine, headers, body, isResponse, method: m[1]!.toUpperCase(), status: 0, reason: '', uri: m[2]! }
}

const COMPACT: Record<string, string> = {
  v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', k: 'supported',
}

export function normName(name: string): string {
  const n = name.toLowerCase()
  return COMPACT[n] ?? n
}

export function header(msg: SipMessage, name: string): string | undefined {
  const want = normName(name)
  return msg.headers.find(([n]) => normName(n) === want)?.[1]
}

export function headersNamed(msg: SipMessage, name: string): string[] {
  const want = normName(name)
  return msg.headers.filter(([n]) => normName(n) === want).map(([, v]) => v)
}

export function tagOf(nameAddr: string | undefined): string | undefined {
  if (!nameAddr) return undefined
  const gt = nameAddr.lastIndexOf('>')
  const params = gt === -1 ? nameAddr : nameAddr.slice(gt + 1)
  return /;\s*tag=([^;\s,]+)/i.exec(params)?.[1]
}

export function branchOf(via: string | undefined): string | undefined {
  return via ? /;\s*branch=([^;\s,]+)/i.exec(via)?.[1] : undefined
}

export function cseqOf(msg: SipMessage): { seq: number; method: string } {
  const v = header(msg, 'cseq') ?? ''
  const m = /^(\d+)\s+(\S+)/.exec(v)
  if (!m) throw new Error(`missing or malformed CSeq: ${v}`)
  return { seq: Number(m[1]), method: m[2]!.toUpperCase() }
}

/** The URI inside a name-addr (`"x" <sip:a@b>;tag=1`) or a bare addr-spec. */
export function uriOf(nameAddr: string): string {
  const lt = nameAddr.indexOf('<')
  if (lt !== -1) return nameAddr.slice(lt + 1, nameAddr.indexOf('>', lt))
  return nameAddr.split(';')[0]!.trim()
}

/** host and port of a sip: URI; port defaults to 5060. */
export function hostPortOf(uri: string): { host: string; port: number } {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?/i.exec(uri)
  if (!m) throw new Error(`invalid request-uri: ${uri}`)
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 5060 }
}

/**
 * Header names the stack knows (sofia-sip parses them, re-capitalises them and places them before Content-Type and
 * Content-Length); others are "unknown" and written after Content-Length (transcript k-uac-app-headers).
 */
const KNOWN: Record<string, string> = {
  'user-agent': 'User-Agent', server: 'Server', allow: 'Allow', supported: 'Supported', require: 'Require',
  'proxy-require': 'Proxy-Require', unsupported: 'Unsupported', expires: 'Expires', 'min-expires': 'Min-Expires',
  'www-authenticate': 'WWW-Authenticate', 'proxy-authenticate': 'Proxy-Authenticate', authorization: 'Authorization',
  'proxy-authorization': 'Proxy-Authorization', 'authentication-info': 'Authentication-Info', reason: 'Reason',
  rseq: 'RSeq', rack: 'RAck', event: 'Event', 'allow-events': 'Allow-Events', 'subscription-state': 'Subscription-State',
  subject: 'Subject', accept: 'Accept', 'accept-encoding': 'Accept-Encoding', 'accept-language': 'Accept-Language',
  'session-expires': 'Session-Expires', 'min-se': 'Min-SE', 'refer-to': 'Refer-To', 'referred-by': 'Referred-By',
  replaces: 'Replaces', warning: 'Warning', date: 'Date', timestamp: 'Timestamp', organization: 'Organization',
  priority: 'Priority', 'in-reply-to': 'In-Reply-To', 'error-info': 'Error-Info', 'alert-info': 'Alert-Info',
  'call-info': 'Call-Info', 'content-disposition': 'Content-Disposition', 'content-encoding': 'Content-Encoding',
  'content-language': 'Content-Language', 'mime-version': 'MIME-Version', 'retry-after': 'Retry-After',
  path: 'Path', 'service-route': 'Service-Route', 'max-forwards': 'Max-Forwards',
}

/** Headers the stack fills itself; app copies are dropped (drachtio.cpp immutable list plus stack-owned fields). */
export const STACK_OWNED = new Set(['via', 'route', 'record-route', 'rseq', 'content-length', 'from', 'to', 'call-id', 'cseq', 'max-forwards'])

export function isKnown(name: string): boolean {
  return normName(name) in KNOWN
}

export function canonicalName(name: string): string {
  const n = normName(name)
  const known = KNOWN[n]
  if (known) return known
  const fixed: Record<string, string> = {
    via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq', contact: 'Contact',
    'content-type': 'Content-Type', 'content-length': 'Content-Length', route: 'Route', 'record-route': 'Record-Route',
  }
  if (fixed[n]) return fixed[n]!
  if (/^x-/i.test(name)) return name
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase())
}
