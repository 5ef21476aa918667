import type { CampaignSettings } from '../../../engine/store/sql/campaigns.js'

export function settings(overrides: Partial<CampaignSettings> = {}): CampaignSettings {
  return {
    dialMode: 'predictive',
    pacing: {
      abandonCeiling: 0.03,
      abandonWindows: ['day', 'rolling-30d'],
      abandonDenominator: 'live-answers',
      maxLinesPerAgent: 3,
      safeHarborSeconds: 2,
      amd: false,
    },
    screening: {
      callingHours: { start: '09:00', end: '21:00', weekdays: [1, 2, 3, 4, 5, 6] },
      minRecallGapMinutes: 60,
      abandonLockoutHours: 72,
    },
    caps: { maxAttemptsTotal: 6, maxAttemptsPer24h: 2, maxAttemptsPer7d: 4, maxLines: 100, callsPerSecond: 10 },
    ...overrides,
  }
}
