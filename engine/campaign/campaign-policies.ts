/**
 * A campaign's stored settings (what operators set through the API) turned into what the engine's cores take: the
 * screening policy, the pacing caps and the dialer's own settings. One place, so the API's view of a campaign and
 * the engine's behaviour cannot drift apart.
 */
import type { CampaignSettings } from '../store/sql/campaigns.js'
import { Weekdays, type CallingWindow, type Weekday } from '../screening/calling-hours.js'
import { resolveScreeningPolicy, type ScreeningPolicy } from '../screening/policy.js'
import type { PacingCaps } from '../pacing/policy.js'
import type { CampaignDialerSettings } from './dialer.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
/**
 * FCC 64.1200(a)(7) and Ofcom: a live person must reach an agent within 2 s of their greeting, or hear the
 * safe-harbor message. No stored setting may stretch the wait beyond it.
 */
export const MAX_AGENT_WAIT_MS = 2000

/** ISO weekday (1 Monday .. 7 Sunday) to screening's names. */
function isoWeekday(n: number): Weekday | undefined {
  if (!Number.isInteger(n) || n < 1 || n > 7) return undefined
  return Weekdays[n % 7]
}

export function screeningPolicyOf(s: CampaignSettings): ScreeningPolicy {
  const window: CallingWindow = { start: s.screening.callingHours.start, end: s.screening.callingHours.end }
  const weekly: Partial<Record<Weekday, CallingWindow[]>> = {}
  for (const n of s.screening.callingHours.weekdays) {
    const day = isoWeekday(n)
    if (day) weekly[day] = [window]
  }
  return resolveScreeningPolicy({
    callingHours: { weekly, holidays: [] },
    caps: {
      maxTotal: s.caps.maxAttemptsTotal,
      max24h: s.caps.maxAttemptsPer24h,
      max7d: s.caps.maxAttemptsPer7d,
    },
    minRecallGapMs: s.screening.minRecallGapMinutes * MINUTE,
    abandonLockoutMs: s.screening.abandonLockoutHours * HOUR,
  })
}

export function pacingCapsOf(s: CampaignSettings, trunk: { channels: number; cps: number }): PacingCaps {
  return {
    linesPerAgent: s.dialMode === 'progressive' ? 1 : s.pacing.maxLinesPerAgent,
    campaignLines: s.caps.maxLines,
    trunkChannels: trunk.channels,
    trunkCps: Math.min(trunk.cps, s.caps.callsPerSecond),
  }
}

export function dialerSettingsOf(
  campaignId: string,
  s: CampaignSettings,
  extra: { ringTimeoutMs: number; tickMs: number; safeHarborPrompt: string },
): CampaignDialerSettings {
  return {
    campaignId,
    amd: s.pacing.amd,
    ...(s.pacing.amdThresholds ? { amdThresholds: s.pacing.amdThresholds } : {}),
    maxAgentWaitMs: Math.min(MAX_AGENT_WAIT_MS, Math.round(s.pacing.safeHarborSeconds * 1000)),
    ringTimeoutMs: extra.ringTimeoutMs,
    tickMs: extra.tickMs,
    safeHarborPrompt: extra.safeHarborPrompt,
    maxScreeningSkipsPerTick: 50,
  }
}
