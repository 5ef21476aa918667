/**
 * The one typed configuration of a Cadence process, loaded from the environment plus an optional JSON file
 * (CADENCE_CONFIG=path). Precedence: environment over file over defaults. Every bad value is reported at once, each
 * line naming the key and the form it expects, and start-up stops.
 */
import { readFileSync } from 'node:fs'
import type { PiiKeyring } from '../engine/security/pii-cipher.js'
import { keys, type KeyName, type KeySpec, type LogLevel, type Role, type ValueOf } from './keys.js'

export type { LogLevel, Role } from './keys.js'

/** Where durable records live: a PostgreSQL server, or embedded PGlite on disk or in memory. */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string }
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'memory' }

export interface Config {
  roles: readonly Role[]
  api: {
    host: string
    port: number
    /** /metrics without an API key. */
    metricsPublic: boolean
    /** Bootstrap admin API key (secret: never log it). */
    adminKey: string | undefined
    /** Lifetime of a login token. */
    tokenTtlSeconds: number
  }
  /** Keys for personal data at rest; undefined: the embedded default generates and keeps its own (engine/main.ts). */
  pii: PiiKeyring | undefined
  redis: { url: string; keyPrefix: string }
  database: DatabaseTarget
  log: { level: LogLevel }
  demo: { enabled: boolean }
  sim: { speed: number }
  telephony: TelephonyConfig
  recording: RecordingConfig
}

/** Recording of bridged calls on rtpengine and their processing (engine/recordings/). */
export interface RecordingConfig {
  enabled: boolean
  /** `*`: every campaign. */
  campaigns: '*' | readonly string[]
  /** rtpengine's --recording-dir as the engine sees it. */
  dir: string
  outputDir: string
  layout: 'stereo' | 'mixed'
  keywordsFile: string | undefined
}

export interface HostPort {
  host: string
  port: number
}

/** A real site's SIP side (engine/campaign/sip-engine.ts); `drachtio` undefined: the simulated site only. */
export interface TelephonyConfig {
  drachtio: (HostPort & { /** secret: never log it */ secret: string }) | undefined
  rtpengine: { engines: HostPort[]; timeoutMs: number; recvBufferBytes: number | undefined }
  /** JSON file of carrier trunks (config/trunks.ts reads and checks it); set whenever `drachtio` is. */
  trunksFile: string | undefined
  ringTimeoutMs: number
  /** 0: no limit. */
  maxCallMs: number
  /** Carrier announcements to screen early media for (engine/media/announcement-templates.ts). */
  announcementsDir?: string | undefined
  /** JSON file of our inbound numbers and their IVR (engine/telephony/inbound/ivr.ts checks it); undefined: none. */
  inboundFile?: string | undefined
  /** Prompts played by rtpengine (safe-harbor, hold music); undefined: the shipped ones. */
  promptsDir?: string | undefined
  /** FreeSWITCH for supervisors' whisper and barge (engine/telephony/fsmrf/); undefined: listen only. */
  freeswitch?: (HostPort & { /** secret: never log it */ secret: string; listen: HostPort | undefined }) | undefined
  /** IPv4 address the engine receives calls' media on, for analysis (default 127.0.0.1). */
  mediaAddress?: string | undefined
  /** The agents' digest registrar, started with the SIP engine; undefined: off. */
  registrar?: RegistrarConfig | undefined
}

export interface RegistrarConfig {
  realm: string
  /** undefined: a random one per process. Never log it. */
  nonceSecret: string | undefined
  minExpiresS: number
  maxExpiresS: number
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

export interface LoadOptions {
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>
  /** Reads the file named by CADENCE_CONFIG; injectable for tests. */
  readFile?: (path: string) => string
}

type Values = { [K in KeyName]: ValueOf<(typeof keys)[K]> | undefined }

/** Load and validate the configuration; throws ConfigError listing every bad key. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'))
  const problems: string[] = []

  let file: Record<string, unknown> = {}
  const filePath = env['CADENCE_CONFIG']
  if (filePath !== undefined && filePath.trim() !== '') {
    const loaded = readConfigFile(filePath, readFile)
    if (typeof loaded === 'string') problems.push(loaded)
    else file = loaded
  }
  if (problems.length === 0) problems.push(...unknownFileKeys(file, filePath ?? ''))

  const values = {} as Record<KeyName, unknown>
  for (const name of Object.keys(keys) as KeyName[]) {
    const spec: KeySpec<unknown> = keys[name]
    const envRaw = env[spec.env]
    const fileRaw = lookup(file, spec.file)
    let source: string
    let raw: unknown
    if (envRaw !== undefined && envRaw !== '') {
      source = spec.env
      raw = envRaw
    } else if (fileRaw !== undefined) {
      source = `${filePath}: ${spec.file}`
      raw = fileRaw
    } else {
      values[name] = spec.default
      continue
    }
    const parsed = spec.parse(raw)
    if (parsed.ok) values[name] = parsed.value
    else {
      const shown = spec.secret === true ? '(value hidden)' : JSON.stringify(raw)
      problems.push(`${source}: expected ${spec.expected}, got ${shown}`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return assemble(values as Values)
}

function assemble(v: Values): Config {
  const need = <T>(value: T | undefined, name: KeyName): T => {
    if (value === undefined) throw new Error(`config key ${name} has no default`)
    return value
  }
  const dbUrl = v.databaseUrl
  const database: DatabaseTarget =
    dbUrl === undefined
      ? { kind: 'pglite', dataDir: need(v.pgliteDir, 'pgliteDir') }
      : dbUrl === 'memory'
        ? { kind: 'memory' }
        : { kind: 'postgres', url: dbUrl }
  return {
    roles: need(v.role, 'role'),
    api: {
      host: need(v.apiHost, 'apiHost'),
      port: need(v.apiPort, 'apiPort'),
      metricsPublic: need(v.metricsPublic, 'metricsPublic'),
      adminKey: v.adminKey,
      tokenTtlSeconds: need(v.tokenTtlSeconds, 'tokenTtlSeconds'),
    },
    pii: piiKeyring(v),
    redis: { url: need(v.redisUrl, 'redisUrl'), keyPrefix: need(v.redisPrefix, 'redisPrefix') },
    database,
    log: { level: need(v.logLevel, 'logLevel') },
    // a site that dials real trunks never runs the simulated demo beside them
    demo: { enabled: need(v.demo, 'demo') && v.drachtioAddress === undefined },
    sim: { speed: need(v.simSpeed, 'simSpeed') },
    telephony: telephony(v),
    recording: {
      enabled: need(v.recording, 'recording'),
      campaigns: need(v.recordingCampaigns, 'recordingCampaigns'),
      dir: need(v.recordingDir, 'recordingDir'),
      outputDir: v.recordingOutputDir ?? `${need(v.recordingDir, 'recordingDir').replace(/\/+$/, '')}/opus`,
      layout: need(v.recordingLayout, 'recordingLayout'),
      keywordsFile: v.recordingKeywordsFile,
    },
  }
}

function telephony(v: Values): TelephonyConfig {
  const problems: string[] = []
  if (v.drachtioAddress !== undefined) {
    if (v.drachtioSecret === undefined) problems.push('DRACHTIO_SECRET: required when DRACHTIO_ADDRESS is set')
    if (v.trunksFile === undefined) problems.push('CADENCE_TRUNKS_FILE: required when DRACHTIO_ADDRESS is set (the trunks to dial through)')
  }
  if (v.registrarMinExpiresSeconds !== undefined && v.registrarMaxExpiresSeconds !== undefined && v.registrarMinExpiresSeconds > v.registrarMaxExpiresSeconds) {
    problems.push(
      `CADENCE_REGISTRAR_MIN_EXPIRES_SECONDS (${v.registrarMinExpiresSeconds}) must not exceed CADENCE_REGISTRAR_MAX_EXPIRES_SECONDS (${v.registrarMaxExpiresSeconds})`,
    )
  }
  if (v.freeswitchEsl !== undefined && v.freeswitchSecret === undefined) {
    problems.push('CADENCE_FREESWITCH_SECRET: required when CADENCE_FREESWITCH_ESL is set')
  }
  if (problems.length > 0) throw new ConfigError(problems)
  const address = v.drachtioAddress
  const fs = v.freeswitchEsl
  return {
    drachtio: address === undefined ? undefined : { ...address, secret: v.drachtioSecret! },
    rtpengine: {
      engines: v.rtpengineNg ?? [],
      timeoutMs: v.rtpengineTimeoutMs ?? 2000,
      recvBufferBytes: v.rtpengineRecvBufferBytes,
    },
    trunksFile: v.trunksFile,
    ringTimeoutMs: (v.ringTimeoutSeconds ?? 25) * 1000,
    maxCallMs: (v.maxCallSeconds ?? 0) * 1000,
    announcementsDir: v.announcementsDir,
    promptsDir: v.promptsDir,
    inboundFile: v.inboundFile,
    mediaAddress: v.mediaAddress ?? '127.0.0.1',
    freeswitch: fs === undefined ? undefined : { ...fs, secret: v.freeswitchSecret!, listen: v.freeswitchListen },
    registrar:
      v.registrar === false
        ? undefined
        : {
            realm: v.registrarRealm ?? 'cadence',
            nonceSecret: v.registrarNonceSecret,
            minExpiresS: v.registrarMinExpiresSeconds ?? 60,
            maxExpiresS: v.registrarMaxExpiresSeconds ?? 3600,
          },
  }
}

function piiKeyring(v: Values): PiiKeyring | undefined {
  if (v.piiKeys === undefined) {
    if (v.piiLookupKey !== undefined || v.piiKeyId !== undefined) {
      throw new ConfigError(['CADENCE_PII_LOOKUP_KEY / CADENCE_PII_KEY_ID: set CADENCE_PII_KEYS too'])
    }
    return undefined
  }
  if (v.piiLookupKey === undefined) throw new ConfigError(['CADENCE_PII_LOOKUP_KEY: required when CADENCE_PII_KEYS is set'])
  const currentKeyId = v.piiKeyId ?? [...v.piiKeys.keys()][0]!
  if (!v.piiKeys.has(currentKeyId)) {
    throw new ConfigError([`CADENCE_PII_KEY_ID: expected one of the ids in CADENCE_PII_KEYS, got ${JSON.stringify(currentKeyId)}`])
  }
  return { keys: v.piiKeys, currentKeyId, lookupKey: Buffer.from(v.piiLookupKey, 'base64') }
}

function readConfigFile(path: string, readFile: (path: string) => string): Record<string, unknown> | string {
  let text: string
  try {
    text = readFile(path)
  } catch (err) {
    return `CADENCE_CONFIG: cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    return `CADENCE_CONFIG: ${path} is not valid JSON (${(err as Error).message})`
  }
  if (!isObject(data)) return `CADENCE_CONFIG: ${path} must hold a JSON object`
  return data
}

/** A typo in the file ("api.prot") must not pass silently as a default. */
function unknownFileKeys(file: Record<string, unknown>, path: string): string[] {
  const known = new Set(Object.values(keys).map((k) => k.file))
  const prefixes = new Set([...known].flatMap((k) => k.split('.').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('.'))))
  const problems: string[] = []
  const walk = (obj: Record<string, unknown>, at: string): void => {
    for (const [k, v] of Object.entries(obj)) {
      const full = at === '' ? k : `${at}.${k}`
      if (known.has(full)) continue
      if (prefixes.has(full) && isObject(v)) walk(v, full)
      else problems.push(`${path}: ${full}: unknown key (known keys: ${[...known].join(', ')})`)
    }
  }
  walk(file, '')
  return problems
}

function lookup(obj: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = obj
  for (const part of dotted.split('.')) {
    if (!isObject(cur)) return undefined
    cur = cur[part]
  }
  return cur
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** The configuration as it may be logged: secrets replaced, the database URL without its password. */
export function describeConfig(config: Config): Record<string, unknown> {
  const db = config.database
  return {
    roles: config.roles.join(','),
    api: `${config.api.host}:${config.api.port}`,
    metricsPublic: config.api.metricsPublic,
    adminKey: config.api.adminKey === undefined ? 'unset' : 'set',
    tokenTtlSeconds: config.api.tokenTtlSeconds,
    pii: config.pii === undefined ? 'embedded default' : `keys ${[...config.pii.keys.keys()].join(',')} (current ${config.pii.currentKeyId})`,
    redis: redactUrl(config.redis.url),
    redisPrefix: config.redis.keyPrefix,
    database: db.kind === 'postgres' ? redactUrl(db.url) : db.kind === 'pglite' ? `pglite:${db.dataDir}` : 'pglite:memory',
    logLevel: config.log.level,
    demo: config.demo.enabled,
    simSpeed: config.sim.speed,
    telephony:
      config.telephony.drachtio === undefined
        ? 'simulated site only'
        : {
            drachtio: `${config.telephony.drachtio.host}:${config.telephony.drachtio.port}`,
            drachtioSecret: 'set',
            rtpengine: config.telephony.rtpengine.engines.map((e) => `${e.host}:${e.port}`).join(','),
            trunksFile: config.telephony.trunksFile,
            ringTimeoutSeconds: config.telephony.ringTimeoutMs / 1000,
            maxCallSeconds: config.telephony.maxCallMs / 1000,
            freeswitch: config.telephony.freeswitch ? `${config.telephony.freeswitch.host}:${config.telephony.freeswitch.port} (secret set)` : 'unset (listen only)',
            registrar: config.telephony.registrar
              ? {
                  realm: config.telephony.registrar.realm,
                  nonceSecret: config.telephony.registrar.nonceSecret === undefined ? 'random per process' : 'set',
                  expiresSeconds: `${config.telephony.registrar.minExpiresS}-${config.telephony.registrar.maxExpiresS}`,
                }
              : 'off',
          },
    recording: config.recording.enabled
      ? {
          campaigns: config.recording.campaigns === '*' ? '*' : config.recording.campaigns.join(','),
          dir: config.recording.dir,
          outputDir: config.recording.outputDir,
          layout: config.recording.layout,
          keywordsFile: config.recording.keywordsFile ?? 'unset',
        }
      : 'off',
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return '(unparsable url)'
  }
}
