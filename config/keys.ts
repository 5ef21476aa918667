import { parseKeyList } from '../engine/security/pii-cipher.js'

/**
 * Every configuration key, once: its environment variable, its path in the optional JSON file, its default, the form
 * it expects and what it is for. The loader, the error messages and the table in config/README.md all come from here,
 * so a key cannot exist without its documentation.
 */

export const Roles = ['engine', 'api'] as const
export type Role = (typeof Roles)[number]

export const LogLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LogLevels)[number]

export type Parsed<T> = { ok: true; value: T } | { ok: false }

export interface KeySpec<T> {
  /** Environment variable name. */
  env: string
  /** Dotted path of the key in the JSON file named by CADENCE_CONFIG. */
  file: string
  /** Default value; undefined means "unset" (the doc says what unset does). */
  default: T | undefined
  /** How the default reads in the docs. */
  defaultDoc: string
  /** The expected form, as error messages and the docs state it. */
  expected: string
  doc: string
  /** Secret keys are never logged nor echoed back in an error message. */
  secret?: boolean
  /** Environment values are strings; file values may be JSON numbers, booleans or arrays. */
  parse(raw: unknown): Parsed<T>
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value })
const bad: Parsed<never> = { ok: false }

function parseInteger(min: number, max: number) {
  return (raw: unknown): Parsed<number> => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN
    return Number.isInteger(n) && n >= min && n <= max ? ok(n) : bad
  }
}

function parseNumber(minExclusive: number, max: number) {
  return (raw: unknown): Parsed<number> => {
    const n =
      typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN
    return Number.isFinite(n) && n > minExclusive && n <= max ? ok(n) : bad
  }
}

function parseBoolean(raw: unknown): Parsed<boolean> {
  if (typeof raw === 'boolean') return ok(raw)
  if (typeof raw !== 'string') return bad
  const s = raw.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(s)) return ok(true)
  if (['false', '0', 'no', 'off'].includes(s)) return ok(false)
  return bad
}

function parseEnum<T extends string>(values: readonly T[]) {
  return (raw: unknown): Parsed<T> => {
    if (typeof raw !== 'string') return bad
    const s = raw.trim().toLowerCase()
    const found = values.find((v) => v === s)
    return found === undefined ? bad : ok(found)
  }
}

function parseRoles(raw: unknown): Parsed<Role[]> {
  const parts = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined
  if (!parts || parts.length === 0) return bad
  const roles: Role[] = []
  for (const p of parts) {
    if (typeof p !== 'string') return bad
    const r = Roles.find((x) => x === p.trim().toLowerCase())
    if (r === undefined) return bad
    if (!roles.includes(r)) roles.push(r)
  }
  return ok(roles)
}

function parseUrl(protocols: readonly string[]) {
  return (raw: unknown): Parsed<string> => {
    if (typeof raw !== 'string') return bad
    try {
      const u = new URL(raw.trim())
      return protocols.includes(u.protocol) && u.hostname !== '' ? ok(raw.trim()) : bad
    } catch {
      return bad
    }
  }
}

function parseHost(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return bad
  const s = raw.trim()
  // A host name, IPv4 or IPv6 literal: letters, digits, dots, hyphens and colons, nothing that could carry a path.
  return /^[A-Za-z0-9.:-]{1,253}$/.test(s) ? ok(s) : bad
}

function parseIpv4(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string') return bad
  const s = raw.trim()
  const parts = s.split('.')
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255) ? ok(s) : bad
}

function parseNonEmptyPath(raw: unknown): Parsed<string> {
  return typeof raw === 'string' && raw.trim() !== '' ? ok(raw.trim()) : bad
}

function parseHostPort(raw: unknown): Parsed<{ host: string; port: number }> {
  if (typeof raw !== 'string') return bad
  const m = /^\s*([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]):(\d{1,5})\s*$/.exec(raw)
  if (!m) return bad
  const port = Number(m[2])
  return port >= 1 && port <= 65535 ? ok({ host: m[1]!.replace(/^\[|\]$/g, ''), port }) : bad
}

/** A comma-separated list (environment) or a JSON array (file) of host:port. */
function parseHostPortList(raw: unknown): Parsed<Array<{ host: string; port: number }>> {
  const parts = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined
  if (!parts || parts.length === 0) return bad
  const out: Array<{ host: string; port: number }> = []
  for (const p of parts) {
    const one = parseHostPort(p)
    if (!one.ok) return bad
    out.push(one.value)
  }
  return ok(out)
}

const postgresUrl = parseUrl(['postgres:', 'postgresql:'])

function parsePiiKeys(raw: unknown): Parsed<Map<string, Buffer>> {
  if (typeof raw !== 'string') return bad
  const keys = parseKeyList(raw)
  return typeof keys === 'string' ? bad : ok(keys)
}

export const keys = {
  role: {
    env: 'CADENCE_ROLE',
    file: 'role',
    default: ['engine', 'api'],
    defaultDoc: '`engine,api`',
    expected: 'a comma-separated list of engine, api',
    doc: 'Which parts run in this process: the dialer engine, the HTTP API, or both.',
    parse: parseRoles,
  } satisfies KeySpec<Role[]>,
  apiHost: {
    env: 'CADENCE_API_HOST',
    file: 'api.host',
    default: '127.0.0.1',
    defaultDoc: '`127.0.0.1`',
    expected: 'a host name or IP address',
    doc: 'Address the HTTP API listens on. Use 0.0.0.0 to listen on every interface (e.g. in a container).',
    parse: parseHost,
  } satisfies KeySpec<string>,
  apiPort: {
    env: 'CADENCE_API_PORT',
    file: 'api.port',
    default: 3000,
    defaultDoc: '`3000`',
    expected: 'an integer 0-65535 (0 picks a free port)',
    doc: 'TCP port of the HTTP API.',
    parse: parseInteger(0, 65535),
  } satisfies KeySpec<number>,
  metricsPublic: {
    env: 'CADENCE_METRICS_PUBLIC',
    file: 'api.metricsPublic',
    default: true,
    defaultDoc: '`true`',
    expected: 'a boolean (true/false, 1/0, yes/no, on/off)',
    doc: 'When true, `/metrics` answers without an API key (Prometheus scrapes it); when false it needs an admin or supervisor key. `/health` and `/ready` are always open.',
    parse: parseBoolean,
  } satisfies KeySpec<boolean>,
  adminKey: {
    env: 'CADENCE_ADMIN_API_KEY',
    file: 'api.adminKey',
    default: undefined,
    defaultDoc: 'unset',
    expected: 'a string of 24-256 printable characters without spaces',
    doc: 'Bootstrap admin API key: stored hashed at start-up so the first admin can call the API (`authorization: Bearer <key>`). Never logged. Unset: no key is created.',
    secret: true,
    parse: (raw: unknown): Parsed<string> =>
      typeof raw === 'string' && /^[\x21-\x7e]{24,256}$/.test(raw) ? ok(raw) : bad,
  } satisfies KeySpec<string>,
  tokenTtlSeconds: {
    env: 'CADENCE_TOKEN_TTL_SECONDS',
    file: 'api.tokenTtlSeconds',
    default: 3600,
    defaultDoc: '`3600`',
    expected: 'an integer 60-86400',
    doc: 'Lifetime of a login token from `POST /v1/auth/login`; the user logs in again after it (API keys do not expire).',
    parse: parseInteger(60, 86_400),
  } satisfies KeySpec<number>,
  piiKeys: {
    env: 'CADENCE_PII_KEYS',
    file: 'pii.keys',
    default: undefined,
    defaultDoc: 'unset (generated once into `.cadence/pii-keys.json`, mode 0600)',
    expected: 'a comma-separated list of <id>:<base64 of 32 random bytes>',
    doc: 'AES-256-GCM keys that encrypt personal data (phone numbers, names, notes) at rest. Rotation: add a key, point `CADENCE_PII_KEY_ID` at it, re-encrypt (`cadence pii reencrypt`), then drop the old one. Never logged.',
    secret: true,
    parse: parsePiiKeys,
  } satisfies KeySpec<Map<string, Buffer>>,
  piiKeyId: {
    env: 'CADENCE_PII_KEY_ID',
    file: 'pii.currentKeyId',
    default: undefined,
    defaultDoc: 'unset (the first key of `CADENCE_PII_KEYS`)',
    expected: '1-32 characters among letters, digits, _ and -',
    doc: 'Which key of `CADENCE_PII_KEYS` encrypts new personal data; the others only decrypt.',
    parse: (raw: unknown): Parsed<string> =>
      typeof raw === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(raw) ? ok(raw) : bad,
  } satisfies KeySpec<string>,
  piiLookupKey: {
    env: 'CADENCE_PII_LOOKUP_KEY',
    file: 'pii.lookupKey',
    default: undefined,
    defaultDoc: 'unset (generated with the keys)',
    expected: 'base64 of at least 32 random bytes',
    doc: 'HMAC key of the keyed hashes that find a customer by phone number without storing the number in clear. Never logged; changing it means re-hashing every row.',
    secret: true,
    parse: (raw: unknown): Parsed<string> =>
      typeof raw === 'string' && Buffer.from(raw, 'base64').length >= 32 ? ok(raw) : bad,
  } satisfies KeySpec<string>,
  redisUrl: {
    env: 'REDIS_URL',
    file: 'redis.url',
    default: 'redis://127.0.0.1:6379',
    defaultDoc: '`redis://127.0.0.1:6379`',
    expected: 'a redis:// or rediss:// URL',
    doc: 'Redis holding the hot shared state (agent states, queues, hopper, pacing counters, leases).',
    parse: parseUrl(['redis:', 'rediss:']),
  } satisfies KeySpec<string>,
  redisPrefix: {
    env: 'CADENCE_REDIS_PREFIX',
    file: 'redis.keyPrefix',
    default: 'cadence:',
    defaultDoc: '`cadence:`',
    expected: '1-64 characters among letters, digits and : _ - .',
    doc: 'Prefix of every Redis key, so several sites (or tests) can share one Redis.',
    parse: (raw: unknown): Parsed<string> =>
      typeof raw === 'string' && /^[A-Za-z0-9:_.-]{1,64}$/.test(raw) ? ok(raw) : bad,
  } satisfies KeySpec<string>,
  databaseUrl: {
    env: 'DATABASE_URL',
    file: 'database.url',
    default: undefined,
    defaultDoc: 'unset (embedded PGlite in `CADENCE_PGLITE_DIR`)',
    expected: 'a postgres:// or postgresql:// URL, or the word memory',
    doc: 'PostgreSQL holding durable records. Unset: embedded PGlite (the same SQL, in-process) stored in `CADENCE_PGLITE_DIR`. `memory`: embedded PGlite that keeps nothing after exit.',
    secret: true,
    parse: (raw: unknown): Parsed<string> =>
      typeof raw === 'string' && raw.trim().toLowerCase() === 'memory' ? ok('memory') : postgresUrl(raw),
  } satisfies KeySpec<string>,
  pgliteDir: {
    env: 'CADENCE_PGLITE_DIR',
    file: 'database.pgliteDir',
    default: './.cadence/pglite',
    defaultDoc: '`./.cadence/pglite`',
    expected: 'a non-empty directory path',
    doc: 'Data directory of the embedded PGlite database (used only when `DATABASE_URL` is unset).',
    parse: parseNonEmptyPath,
  } satisfies KeySpec<string>,
  logLevel: {
    env: 'CADENCE_LOG_LEVEL',
    file: 'log.level',
    default: 'info',
    defaultDoc: '`info`',
    expected: `one of ${LogLevels.join(', ')}`,
    doc: 'Minimum level of the JSON log (pino).',
    parse: parseEnum(LogLevels),
  } satisfies KeySpec<LogLevel>,
  demo: {
    env: 'CADENCE_DEMO',
    file: 'demo.enabled',
    default: true,
    defaultDoc: '`true`',
    expected: 'a boolean (true/false, 1/0, yes/no, on/off)',
    doc: 'Run a demo campaign on the simulated site at start-up (what `npm start` shows a newcomer). Off whenever `DRACHTIO_ADDRESS` is set.',
    parse: parseBoolean,
  } satisfies KeySpec<boolean>,
  simSpeed: {
    env: 'CADENCE_SIM_SPEED',
    file: 'sim.speed',
    default: 1,
    defaultDoc: '`1`',
    expected: 'a number greater than 0 and at most 1000',
    doc: 'Speed of the simulated site: virtual seconds per real second (1 = real time, 60 = a minute per second).',
    parse: parseNumber(0, 1000),
  } satisfies KeySpec<number>,
  drachtioAddress: {
    env: 'DRACHTIO_ADDRESS',
    file: 'drachtio.address',
    default: undefined,
    defaultDoc: 'unset',
    expected: 'host:port of the drachtio-server admin port',
    doc: 'drachtio-server to dial through (its admin port, e.g. `127.0.0.1:9022`). Set: the engine dials real trunks (needs `DRACHTIO_SECRET` and `CADENCE_TRUNKS_FILE`; the simulated demo is then off). Unset: only the simulated site.',
    parse: parseHostPort,
  } satisfies KeySpec<{ host: string; port: number }>,
  drachtioSecret: {
    env: 'DRACHTIO_SECRET',
    file: 'drachtio.secret',
    default: undefined,
    defaultDoc: 'unset',
    expected: 'a non-empty string',
    doc: 'The admin secret of drachtio-server (`<admin secret=...>` in its configuration). Never logged.',
    secret: true,
    parse: (raw: unknown): Parsed<string> => (typeof raw === 'string' && raw !== '' ? ok(raw) : bad),
  } satisfies KeySpec<string>,
  rtpengineNg: {
    env: 'CADENCE_RTPENGINE_NG',
    file: 'rtpengine.ng',
    default: [{ host: '127.0.0.1', port: 22222 }],
    defaultDoc: '`127.0.0.1:22222`',
    expected: 'a comma-separated list (file: an array) of host:port',
    doc: "rtpengine daemons' ng control ports (UDP) anchoring every call's media; new calls go round robin to the healthy ones. Used when `DRACHTIO_ADDRESS` is set.",
    parse: parseHostPortList,
  } satisfies KeySpec<Array<{ host: string; port: number }>>,
  rtpengineTimeoutMs: {
    env: 'CADENCE_RTPENGINE_TIMEOUT_MS',
    file: 'rtpengine.timeoutMs',
    default: 2000,
    defaultDoc: '`2000`',
    expected: 'an integer 100-30000',
    doc: 'How long an ng command waits for its reply before it is sent once more (then the call fails as congestion).',
    parse: parseInteger(100, 30_000),
  } satisfies KeySpec<number>,
  rtpengineRecvBufferBytes: {
    env: 'CADENCE_RTPENGINE_RECV_BUFFER_BYTES',
    file: 'rtpengine.recvBufferBytes',
    default: undefined,
    defaultDoc: 'unset (the kernel default)',
    expected: 'an integer 65536-268435456',
    doc: "SO_RCVBUF of the engine's ng socket, so replies to a burst of commands are not dropped (the kernel caps it at `net.core.rmem_max`).",
    parse: parseInteger(65_536, 268_435_456),
  } satisfies KeySpec<number>,
  trunksFile: {
    env: 'CADENCE_TRUNKS_FILE',
    file: 'telephony.trunksFile',
    default: undefined,
    defaultDoc: 'unset',
    expected: 'a path to a JSON file',
    doc: 'The carrier trunks to dial through (`{"trunks": [{"id", "gateways": [{"address", "transport", "auth"}], "maxChannels", "maxCps", ...}]}`; README "SIP engine"). Holds gateway credentials: keep it readable by the engine only. Required when `DRACHTIO_ADDRESS` is set.',
    parse: parseNonEmptyPath,
  } satisfies KeySpec<string>,
  inboundFile: {
    env: 'CADENCE_INBOUND_FILE',
    file: 'telephony.inboundFile',
    default: undefined,
    defaultDoc: 'unset (no inbound calls: INVITEs to the engine are not routed to it)',
    expected: 'a path to a JSON file',
    doc: 'Our numbers callers dial and their IVR: `[{"number", "campaignId", "menu": {"prompt", "options": {"1": {"queue": "sales"}}, "timeoutMs", "retries"}, "maxWaitMs", "overflowPrompt"}]` (README "Inbound calls"); a queue is an agent skill. Checked at start-up: every problem is named and start-up exits 2.',
    parse: parseNonEmptyPath,
  } satisfies KeySpec<string>,
  ringTimeoutSeconds: {
    env: 'CADENCE_RING_TIMEOUT_SECONDS',
    file: 'telephony.ringTimeoutSeconds',
    default: 25,
    defaultDoc: '`25`',
    expected: 'an integer 15-300 (15 s is the regulatory minimum ring time)',
    doc: 'How long a call rings (per gateway attempt) before it is cancelled as no-answer.',
    parse: parseInteger(15, 300),
  } satisfies KeySpec<number>,
  registrar: {
    env: 'CADENCE_REGISTRAR',
    file: 'registrar.enabled',
    default: true,
    defaultDoc: '`true`',
    expected: 'true or false',
    doc: "The agents' SIP registrar (digest against the agents' SIP credentials, bindings in Redis): started with the SIP engine when `DRACHTIO_ADDRESS` is set, so drachtio-server routes REGISTER to the engine and agent sessions reach the phones registered there. Off: phones register elsewhere and no agent session can find one.",
    parse: parseBoolean,
  } satisfies KeySpec<boolean>,
  registrarRealm: {
    env: 'CADENCE_REGISTRAR_REALM',
    file: 'registrar.realm',
    default: 'cadence',
    defaultDoc: '`cadence`',
    expected: 'a realm of 1-128 of [A-Za-z0-9.-]',
    doc: "The digest realm phones are challenged with; the agents' stored HA1 must have been computed with it (usually the site's SIP domain).",
    parse: (raw: unknown): Parsed<string> => (typeof raw === 'string' && /^[A-Za-z0-9.-]{1,128}$/.test(raw.trim()) ? ok(raw.trim()) : bad),
  } satisfies KeySpec<string>,
  registrarNonceSecret: {
    env: 'CADENCE_REGISTRAR_NONCE_SECRET',
    file: 'registrar.nonceSecret',
    default: undefined,
    defaultDoc: 'unset (a random secret per process)',
    expected: 'a string of at least 16 characters',
    doc: 'HMAC key of the stateless digest nonces. Give every engine instance the same one; unset, a nonce issued by one instance is stale at another and the phone is challenged once more. Never logged.',
    secret: true,
    parse: (raw: unknown): Parsed<string> => (typeof raw === 'string' && raw.length >= 16 ? ok(raw) : bad),
  } satisfies KeySpec<string>,
  registrarMinExpiresSeconds: {
    env: 'CADENCE_REGISTRAR_MIN_EXPIRES_SECONDS',
    file: 'registrar.minExpiresSeconds',
    default: 60,
    defaultDoc: '`60`',
    expected: 'an integer 1-86400, at most the maximum',
    doc: 'Shortest registration accepted; a phone asking for less gets 423 Interval Too Brief with this as Min-Expires.',
    parse: parseInteger(1, 86_400),
  } satisfies KeySpec<number>,
  registrarMaxExpiresSeconds: {
    env: 'CADENCE_REGISTRAR_MAX_EXPIRES_SECONDS',
    file: 'registrar.maxExpiresSeconds',
    default: 3600,
    defaultDoc: '`3600`',
    expected: 'an integer 1-86400, at least the minimum',
    doc: 'Longest registration granted (a longer request is shortened to it), and the expiry of a REGISTER that names none.',
    parse: parseInteger(1, 86_400),
  } satisfies KeySpec<number>,
  freeswitchEsl: {
    env: 'CADENCE_FREESWITCH_ESL',
    file: 'freeswitch.esl',
    default: undefined,
    defaultDoc: 'unset (supervisors can listen, not whisper or barge)',
    expected: 'host:port of FreeSWITCH\'s event socket',
    doc: "FreeSWITCH (drachtio's media-server image, profile `drachtio_mrf`) for supervisors' whisper and barge through drachtio-fsmrf (README \"SIP engine, Supervisor\"). Needs `CADENCE_FREESWITCH_SECRET`; used when `DRACHTIO_ADDRESS` is set.",
    parse: parseHostPort,
  } satisfies KeySpec<{ host: string; port: number }>,
  freeswitchSecret: {
    env: 'CADENCE_FREESWITCH_SECRET',
    file: 'freeswitch.secret',
    default: undefined,
    defaultDoc: 'unset',
    expected: 'a non-empty string',
    doc: 'The event socket password of that FreeSWITCH (`event_socket.conf.xml`). Never logged.',
    secret: true,
    parse: (raw: unknown): Parsed<string> => (typeof raw === 'string' && raw !== '' ? ok(raw) : bad),
  } satisfies KeySpec<string>,
  freeswitchListen: {
    env: 'CADENCE_FREESWITCH_LISTEN',
    file: 'freeswitch.listen',
    default: undefined,
    defaultDoc: "unset (the host's first non-internal IPv4, any free port)",
    expected: 'host:port',
    doc: "Where FreeSWITCH's outbound event socket connections reach the engine (one per conference leg): an address FreeSWITCH can connect to, and a port (0: any) open to it.",
    parse: parseHostPort,
  } satisfies KeySpec<{ host: string; port: number }>,
  mediaAddress: {
    env: 'CADENCE_MEDIA_ADDRESS',
    file: 'telephony.mediaAddress',
    default: '127.0.0.1',
    defaultDoc: '`127.0.0.1` (rtpengine on the same host)',
    expected: 'an IPv4 address of this host',
    doc: "Where rtpengine sends each call's audio to the engine for media analysis (early media, AMD): the engine's RTP socket binds it and every call's SDP towards rtpengine names it. Set it to an address rtpengine can reach when rtpengine runs on another host.",
    parse: parseIpv4,
  } satisfies KeySpec<string>,
  announcementsDir: {
    env: 'CADENCE_ANNOUNCEMENTS_DIR',
    file: 'telephony.announcementsDir',
    default: undefined,
    defaultDoc: 'unset (early media is screened for SIT tones only)',
    expected: 'a path to a directory',
    doc: "The carriers' recorded announcements the engine listens for in early media, one folder per reason (`announcement-empty-number`, `announcement-suspended`, `announcement-unreachable`) of 8 kHz mono WAV or raw `.ul`/`.al` files (README \"Media analysis\"); a call playing one is cancelled and its number learned. Checked at start-up: a bad file is named and start-up exits 2.",
    parse: parseNonEmptyPath,
  } satisfies KeySpec<string>,
  promptsDir: {
    env: 'CADENCE_PROMPTS_DIR',
    file: 'telephony.promptsDir',
    default: undefined,
    defaultDoc: 'unset (the prompts shipped in `engine/telephony/prompts/`)',
    expected: 'a path to a directory',
    doc: "Where the SIP engine finds its prompts, `<name>.wav` (8 kHz mono): `safe-harbor` (played to an answered person no agent took; record your own, naming your company and a number to call back), `hold-music`. rtpengine reads the files itself, so the directory must be readable by rtpengine at the same path (docker-compose.yml mounts it into both).",
    parse: parseNonEmptyPath,
  } satisfies KeySpec<string>,
  maxCallSeconds: {
    env: 'CADENCE_MAX_CALL_SECONDS',
    file: 'telephony.maxCallSeconds',
    default: 14_400,
    defaultDoc: '`14400` (4 h)',
    expected: 'an integer 0-86400 (0: no limit)',
    doc: 'Longest an answered call may last: past it the engine sends BYE and writes the CDR, so a call whose BYE was lost does not hold a channel and an agent forever.',
    parse: parseInteger(0, 86_400),
  } satisfies KeySpec<number>,
  recording: {
    env: 'CADENCE_RECORDING',
    file: 'recording.enabled',
    default: true,
    defaultDoc: '`true`',
    expected: 'a boolean (true/false, 1/0, yes/no, on/off)',
    doc: 'Record bridged calls on rtpengine (from the moment the customer is with the agent), then spot keywords, compress to Opus and index them for QA. Needs rtpengine started with `--recording-method=pcap --recording-dir=<CADENCE_RECORDING_DIR>`. Used when `DRACHTIO_ADDRESS` is set.',
    parse: parseBoolean,
  } satisfies KeySpec<boolean>,
  recordingCampaigns: {
    env: 'CADENCE_RECORDING_CAMPAIGNS',
    file: 'recording.campaigns',
    default: '*',
    defaultDoc: '`*` (every campaign)',
    expected: '* or a comma-separated list (file: an array) of campaign ids',
    doc: 'Which campaigns are recorded when `CADENCE_RECORDING` is on. An agent can still pause and resume any call\'s recording.',
    parse: parseCampaignSet,
  } satisfies KeySpec<'*' | string[]>,
  recordingDir: {
    env: 'CADENCE_RECORDING_DIR',
    file: 'recording.dir',
    default: '/var/spool/rtpengine',
    defaultDoc: '`/var/spool/rtpengine`',
    expected: 'a non-empty directory path',
    doc: "rtpengine's `--recording-dir` as this engine sees it (a shared mount when rtpengine runs on another host): its `pcaps/` and `metadata/` are read, and emptied once each recording is stored.",
    parse: parseNonEmptyPath,
  } satisfies KeySpec<string>,
  recordingOutputDir: {
    env: 'CADENCE_RECORDING_OUTPUT_DIR',
    file: 'recording.outputDir',
    default: undefined,
    defaultDoc: 'unset (`<CADENCE_RECORDING_DIR>/opus`)',
    expected: 'a non-empty directory path',
    doc: 'Where the compressed recordings (one Ogg Opus file per call) are kept; the QA API serves them from here.',
    parse: parseNonEmptyPath,
  } satisfies KeySpec<string>,
  recordingLayout: {
    env: 'CADENCE_RECORDING_LAYOUT',
    file: 'recording.layout',
    default: 'stereo',
    defaultDoc: '`stereo`',
    expected: 'stereo or mixed',
    doc: 'stereo: the agent on the left channel, the customer on the right; mixed: both in one mono channel (half the size, parties no longer apart).',
    parse: parseEnum(['stereo', 'mixed'] as const),
  } satisfies KeySpec<'stereo' | 'mixed'>,
  recordingKeywordsFile: {
    env: 'CADENCE_RECORDING_KEYWORDS_FILE',
    file: 'recording.keywordsFile',
    default: undefined,
    defaultDoc: 'unset (no keyword spotting)',
    expected: 'a path to a JSON file',
    doc: 'Campaigns\' keyword lists for spotting in their recordings: `{"campaigns": {"<id>": {"examples": [{"keyword", "file": "<8 kHz WAV>"}], "required": ["<keyword>"]}}}` (README "Media analysis"). Checked at start-up.',
    parse: parseNonEmptyPath,
  } satisfies KeySpec<string>,
}

/** `*` for every campaign, or the campaign ids named. */
function parseCampaignSet(raw: unknown): Parsed<'*' | string[]> {
  if (typeof raw === 'string' && raw.trim() === '*') return ok('*')
  const parts = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined
  if (!parts) return bad
  const ids: string[] = []
  for (const p of parts) {
    if (typeof p !== 'string' || p.trim() === '' || p.trim() === '*') return bad
    if (!ids.includes(p.trim())) ids.push(p.trim())
  }
  return ok(ids)
}

export type Keys = typeof keys
export type KeyName = keyof Keys
export type ValueOf<S> = S extends { parse(raw: unknown): Parsed<infer T> } ? T : never
