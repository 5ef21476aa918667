/**
 * The engine's side of recordings (issue 5 §6): each recorded call is registered in PostgreSQL as it ends (state
 * 'pending'), then claimed (SKIP LOCKED, with a lease) and handed to the recording pipeline on the media workers:
 * keywords spotted when the campaign has a keyword list, compressed to Opus, stored for the QA API. A busy pool puts
 * the registration back for later without counting an attempt; a failure is retried with backoff, then marked
 * 'failed'; the files stay on disk until the recording row is stored. Registrations left by an engine that died are
 * found by the next drain (pending ones at once, claimed ones once their lease ran out), so a restart loses nothing.
 * Decisions are in recording-registry.ts; this module only does the I/O.
 */
import { mkdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../clock.js'
import type { Lead } from '../leads/lead.js'
import { e164Of } from '../screening/number.js'
import type { RecordedCall } from '../qa/ingest.js'
import type { CallRecorded, CallRecordingPolicy, RecordingStarted } from '../telephony/drachtio/call-recording.js'
import type { RecordingRegistration, RecordingRegistrationRepository } from '../store/sql/recording-registrations.js'
import { QueueFullError } from '../../workers/pool.js'
import type { CampaignKeywords } from './keyword-lists.js'
import type { RecordingJob } from './recording-pipeline.js'
import {
  afterFailure,
  agentSource,
  DEFAULT_REGISTRY_POLICY,
  dueWithoutEnd,
  planInput,
  registrationAtStart,
  registrationOf,
  retryDelay,
  type RegistryPolicy,
} from './recording-registry.js'
import { findRecordingSegments, mergePcaps, openRecordingPcaps } from './rtpengine-files.js'

export interface RecordingProcessorOptions {
  registrations: RecordingRegistrationRepository
  /** The recording row of a call, if one was stored (a job whose end was not marked, found again). */
  recordingOfCall(callId: string): Promise<{ id: string } | undefined>
  lead(leadId: string): Promise<Pick<Lead, 'customerId' | 'e164'> | undefined>
  /** The CRM customer with this number (E.164) in the campaign's site: who an inbound caller with no lead is. */
  customerByNumber?(e164: string, siteId: string): Promise<string | undefined>
  campaignSite(campaignId: string): Promise<string | undefined>
  pipeline: { process(job: RecordingJob): Promise<{ recordingId: string; keywordHits: number | null }> }
  clock: Clock
  logger: Logger
  /** This engine instance: the owner of the registrations it claims. */
  owner: string
  /** rtpengine's --recording-dir as this engine sees it. */
  recordingDir: string
  /** Which campaigns' bridged calls are recorded. */
  recorded(campaignId: string): boolean
  keywords(campaignId: string): CampaignKeywords | undefined
  policy?: RegistryPolicy
  /** How long a claimed registration is hidden from other engines; longer than the slowest job. Default 10 min. */
  leaseMs?: number
  /** Registrations claimed at a time. Default 4. */
  batch?: number
  /** How often due registrations (retries, other engines' lost ones) are looked for. Default 15 s. */
  pollMs?: number
  /** The longest call allowed (config telephony.maxCallMs; 0: none): a call that never reported its end is processed after it. */
  maxCallMs?: number
}

export class RecordingProcessor implements CallRecordingPolicy {
  private readonly log: Logger
  private readonly policy: RegistryPolicy
  private draining: Promise<void> | undefined
  private again = false
  private timer: TimerHandle | undefined
  private stopped = false
  private readonly registering = new Set<Promise<void>>()

  constructor(private readonly o: RecordingProcessorOptions) {
    this.log = o.logger.child({ component: 'recordings' })
    this.policy = o.policy ?? DEFAULT_REGISTRY_POLICY
  }

  wanted(campaignId: string): boolean {
    return this.o.recorded(campaignId)
  }

  /**
   * A recording just started: registered at once, due only after the longest call allowed, so a call whose engine
   * dies before it ends is still processed (by the next engine). Never throws.
   */
  onRecordingStarted(started: RecordingStarted): void {
    this.track(this.register(started, undefined))
  }

  /** The port's report of a recorded call: registered durably (due now), then processed. Never throws. */
  onRecorded(rec: CallRecorded): void {
    this.track(this.register(rec, rec))
  }

  private track(p: Promise<void>): void {
    const tracked = p.finally(() => this.registering.delete(tracked))
    this.registering.add(tracked)
  }

  /** Registers the call (retried a few times if the database is away: the files are on disk meanwhile). */
  async register(started: RecordingStarted, ended: CallRecorded | undefined, tries = 5): Promise<void> {
    const log = this.log.child({ callId: started.callId, campaignId: started.campaignId })
    for (let i = 1; ; i++) {
      try {
        const lead = started.leadId ? await this.o.lead(started.leadId) : undefined
        const siteId = (await this.o.campaignSite(started.campaignId)) ?? 'default'
        // a call with no lead (inbound) names its far party: in E.164 as numbers are searched (a national number is
        // read as Chinese, as the inbound route reads callers), and the CRM says which customer that is
        const number = (lead === undefined && started.number !== undefined ? e164Of(started.number, 'CN') : undefined) ?? null
        const customerId = lead?.customerId ?? (number !== null ? await this.o.customerByNumber?.(number, siteId) : undefined) ?? null
        const ctx = { siteId, customerId, recordingDir: this.o.recordingDir, number }
        const now = this.o.clock.now()
        if (ended) {
          const reg = registrationOf(ended, ctx)
          const added = await this.o.registrations.add(reg, now)
          log.info({ segments: reg.segments, durationMs: reg.durationMs, added }, 'recording registered')
          this.kick()
        } else {
          const dueAt = dueWithoutEnd(started.startedAt, this.o.maxCallMs ?? 0)
          await this.o.registrations.begin(registrationAtStart(started, ctx), dueAt, now)
          log.debug({ dueAt }, 'recording registered as it starts')
        }
        return
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err)
        if (i >= tries || this.stopped) {
          log.error({ err: msg, recordingDir: this.o.recordingDir }, 'recording not registered; its pcap stays in the recording directory')
          return
        }
        log.warn({ err: msg, attempt: i }, 'recording not registered yet; trying again')
        await new Promise<void>((resolve) => this.o.clock.setTimeout(resolve, retryDelay(i, this.policy)))
      }
    }
  }

  /** Processes what is due now and keeps looking every `pollMs`. */
  start(): void {
    this.stopped = false
    const poll = (): void => {
      if (this.stopped) return
      this.kick()
      this.timer = this.o.clock.setTimeout(poll, this.o.pollMs ?? 15_000)
    }
    poll()
  }

  /** Stops polling and waits for the jobs under way (their registrations are marked before this resolves). */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) this.o.clock.clearTimeout(this.timer)
    this.timer = undefined
    await Promise.all([...this.registering])
    while (this.draining) await this.draining
  }

  /** Drains due registrations now (again after the current drain, if one is under way). */
  kick(): void {
    if (this.draining) {
      this.again = true
      return
    }
    this.draining = this.drain()
      .catch((err: unknown) => this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'recording registrations not read; trying at the next poll'))
      .finally(() => {
        this.draining = undefined
        if (this.again && !this.stopped) {
          this.again = false
          this.kick()
        }
      })
  }

  /** Resolves once nothing is being drained (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.draining || this.registering.size > 0) {
      await Promise.all([...this.registering])
      if (this.draining) await this.draining
    }
  }

  private async drain(): Promise<void> {
    const batch = this.o.batch ?? 4
    for (;;) {
      const due = await this.o.registrations.claim(this.o.owner, batch, this.o.clock.now(), this.o.leaseMs ?? 600_000)
      await Promise.all(due.map((reg) => this.process(reg)))
      if (due.length < batch || this.stopped) return
    }
  }

  private async process(reg: RecordingRegistration): Promise<void> {
    const log = this.log.child({ callId: reg.callId, campaignId: reg.campaignId })
    const { registrations: store, clock, owner } = this.o
    try {
      const all = await findRecordingSegments(reg.recordingDir, reg.callId)
      const found = all.filter((s) => s.pcapExists)
      const open = await openRecordingPcaps(reg.recordingDir, reg.callId)
      const mergedPath = join(reg.recordingDir, 'merged', `${reg.callId}.pcap`)
      const mergedExists = await stat(mergedPath).then(() => true, () => false)
      const plan = planInput(reg, found, { path: mergedPath, exists: mergedExists }, reg.attempts, this.policy, open.length)
      let input: string
      switch (plan.kind) {
        case 'wait': {
          const at = clock.now() + retryDelay(reg.attempts + 1, this.policy)
          log.warn({ found: plan.found, expected: plan.expected, open: open.length }, 'not every pcap of the call is finished yet; looking again later')
          await store.retryLater(reg.callId, owner, at, clock.now(), `${plan.found} of ${plan.expected} pcaps finished`, true)
          return
        }
        case 'nothing': {
          const existing = await this.o.recordingOfCall(reg.callId)
          if (existing) {
            await store.markDone(reg.callId, owner, existing.id, clock.now())
            await removeAll(all.map((s) => s.metadata))
            log.info({ recordingId: existing.id }, 'recording was already stored')
          } else {
            await store.markFailed(reg.callId, owner, `no pcap of the call in ${reg.recordingDir}`, clock.now())
            log.error({ recordingDir: reg.recordingDir }, 'no pcap of the recorded call found; registration marked failed')
          }
          return
        }
        case 'merge':
          if (plan.inputs.length < reg.segments) log.warn({ found: plan.inputs.length, expected: reg.segments }, 'some pcaps of the call never appeared; processing those found')
          await mkdir(join(reg.recordingDir, 'merged'), { recursive: true })
          await mergePcaps(plan.inputs, plan.output)
          input = plan.output
          break
        case 'single':
          if (reg.segments > 1) log.warn({ found: 1, expected: reg.segments }, 'some pcaps of the call never appeared; processing the one found')
          input = plan.input
          break
        case 'merged':
          input = plan.input
          break
      }
      const lead = reg.leadId ? await this.o.lead(reg.leadId) : undefined
      const call: RecordedCall = {
        callId: reg.callId,
        siteId: reg.siteId,
        campaignId: reg.campaignId,
        agentId: reg.agentId,
        customerId: reg.customerId,
        startedAt: reg.startedAt,
        number: lead?.e164 ?? reg.number ?? null,
      }
      const keywords = reg.campaignId ? this.o.keywords(reg.campaignId) : undefined
      const source = agentSource(reg)
      const job: RecordingJob = { call, input, ...(source ? { firstSource: source } : {}), ...(keywords ? { keywords } : {}) }
      const done = await this.o.pipeline.process(job)
      await store.markDone(reg.callId, owner, done.recordingId, clock.now())
      // the recording row is stored: rtpengine's files of the call can go (the compressed one was verified)
      await removeAll([...found.map((s) => s.pcap), ...all.map((s) => s.metadata)])
      log.info({ recordingId: done.recordingId, keywordHits: done.keywordHits }, 'recording processed')
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err)
      if (err instanceof QueueFullError) {
        log.warn({ queued: err.queued }, 'media workers busy; the recording waits on disk')
        await store.retryLater(reg.callId, owner, clock.now() + this.policy.retryMs, clock.now(), null, false).catch(() => undefined)
        return
      }
      const next = afterFailure(reg.attempts, clock.now(), this.policy)
      if (next.kind === 'retry') {
        log.error({ err: msg, attempt: reg.attempts + 1, retryAt: new Date(next.at).toISOString() }, 'recording not processed; the files stay on disk, trying again later')
        await store.retryLater(reg.callId, owner, next.at, clock.now(), msg, true).catch(() => undefined)
      } else {
        log.error({ err: msg, attempts: reg.attempts + 1 }, 'recording not processed; given up, the files stay on disk')
        await store.markFailed(reg.callId, owner, msg, clock.now()).catch(() => undefined)
      }
    }
  }
}

async function removeAll(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true })))
}
