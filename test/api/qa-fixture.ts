/**
 * The QA tests' world: two sites, agents, a campaign with CDRs, and recordings on disk, stored with the same PiiCipher
 * the app under test uses (the harness is given our keyring).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../config/config.js'
import { keyringEnv, PiiCipher } from '../../engine/security/pii-cipher.js'
import type { Db } from '../../engine/store/sql/db.js'
import type { RecordingFormat } from '../../engine/store/sql/recordings.js'
import { repositories, type Repositories } from '../../engine/store/sql/repositories.js'
import { settings } from '../store/sql/settings-fixture.js'
import { harness, type Harness } from './harness.js'

export interface QaWorld {
  h: Harness
  repos: Repositories
  pii: PiiCipher
  dir: string
  agentA: string
  agentB: string
  agentSz: string
  campaignId: string
  /** Keys: an agent working as agentA, and QA of the shenzhen site. */
  agentAKey: string
  szQaKey: string
  bearer(key: string): { authorization: string }
  /** A recording file of n deterministic bytes, stored as a recording of a new call. */
  addRecording(r: {
    callId: string
    agentId: string | null
    startedAt: number
    siteId?: string
    bytes?: number
    format?: RecordingFormat
    number?: string
    customerId?: string
    disposition?: string
  }): Promise<string>
  close(): Promise<void>
}

export function patternBytes(n: number, salt: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + salt * 7 + (i >> 8)) & 0xff
  return b
}

export async function qaWorld(db: Db): Promise<QaWorld> {
  const env = keyringEnv()
  const config = loadConfig({ env: { DATABASE_URL: 'memory', ...env } })
  const pii = new PiiCipher(config.pii!)
  const h = await harness(db, { env })
  const repos = repositories(db, pii)
  const dir = mkdtempSync(join(tmpdir(), 'cadence-qa-'))
  await repos.sites.create({ id: 'shenzhen', name: 'Shenzhen floor', timeZone: 'Asia/Shanghai' })
  const agentA = (await repos.agents.create({ name: 'Agent A' })).id
  const agentB = (await repos.agents.create({ name: 'Agent B' })).id
  const agentSz = (await repos.agents.create({ name: 'Agent SZ', siteId: 'shenzhen' })).id
  const campaignId = (await repos.campaigns.create({ name: 'QA campaign', settings: settings() })).id
  const szCampaignId = (await repos.campaigns.create({ name: 'SZ campaign', settings: settings(), siteId: 'shenzhen' })).id
  const agentAKey = (await repos.apiKeys.create({ name: 'agent-a', role: 'agent', agentId: agentA })).key
  const szQaKey = (await repos.apiKeys.create({ name: 'sz-qa', role: 'qa', siteId: 'shenzhen' })).key
  let salt = 0
  return {
    h,
    repos,
    pii,
    dir,
    agentA,
    agentB,
    agentSz,
    campaignId,
    agentAKey,
    szQaKey,
    bearer: (key) => ({ authorization: `Bearer ${key}` }),
    async addRecording(r) {
      const siteId = r.siteId ?? 'default'
      const campaign = siteId === 'default' ? campaignId : szCampaignId
      const format = r.format ?? 'opus'
      const path = join(dir, `${r.callId}.${format}`)
      const body = patternBytes(r.bytes ?? 1000, ++salt)
      writeFileSync(path, body)
      await repos.cdrs.insert({
        callId: r.callId,
        campaignId: campaign,
        leadId: `lead-${r.callId}`,
        ...(r.agentId === null ? {} : { agentId: r.agentId }),
        outcome: 'connected',
        disposition: r.disposition ?? 'sale',
        dialedAt: r.startedAt - 5000,
        endedAt: r.startedAt + 60_000,
        talkSeconds: 60,
        abandoned: false,
      })
      const stored = await repos.recordings.add({
        callId: r.callId,
        siteId,
        campaignId: campaign,
        agentId: r.agentId,
        customerId: r.customerId ?? null,
        startedAt: r.startedAt,
        durationMs: 60_000,
        path,
        format,
        checksumSha256: 'a'.repeat(64),
        sizeBytes: body.length,
        number: r.number ?? null,
      })
      return stored.recording.id
    },
    async close() {
      await h.app.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
