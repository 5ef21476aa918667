/**
 * QA scoring: a form's items are answered yes, no or n.a.; a yes earns the item's weight, a no earns nothing, and an
 * n.a. leaves the item out of the denominator (a question that did not apply to the call neither helps nor hurts).
 * The score is earned / possible × 100; with every item n.a. there is nothing to score and the score is null.
 */

export const QaAnswers = ['yes', 'no', 'na'] as const
export type QaAnswer = (typeof QaAnswers)[number]

export interface QaFormItem {
  /** Stable within the form: answers name it. */
  id: string
  label: string
  /** > 0; relative, not a percentage. */
  weight: number
  /** A required item answered no is a failed call whatever the score (reported apart). */
  required: boolean
}

export interface ScoredAnswers {
  earned: number
  possible: number
  /** 0..100, rounded to 2 decimals; null when every item was n.a. */
  score: number | null
  /** Required items answered no. */
  failedRequired: string[]
}

/** Why a set of answers does not fit a form: the offending answer's position and a message. */
export interface AnswerProblem {
  index: number | null
  message: string
}

/**
 * Checks answers against the form: every item answered exactly once, no unknown item. Returns the first problem, or
 * null when the answers fit.
 */
export function checkAnswers(items: readonly QaFormItem[], answers: ReadonlyArray<{ itemId: string; answer: QaAnswer }>): AnswerProblem | null {
  const known = new Set(items.map((i) => i.id))
  const seen = new Set<string>()
  for (const [index, a] of answers.entries()) {
    if (!known.has(a.itemId)) return { index, message: `item ${JSON.stringify(a.itemId)} is not on this form` }
    if (seen.has(a.itemId)) return { index, message: `item ${JSON.stringify(a.itemId)} is answered twice` }
    seen.add(a.itemId)
  }
  const missing = items.filter((i) => !seen.has(i.id)).map((i) => i.id)
  if (missing.length > 0) return { index: null, message: `every item needs an answer (yes, no or na); missing: ${missing.join(', ')}` }
  return null
}

export function scoreAnswers(items: readonly QaFormItem[], answers: ReadonlyArray<{ itemId: string; answer: QaAnswer }>): ScoredAnswers {
  const byId = new Map(answers.map((a) => [a.itemId, a.answer]))
  let earned = 0
  let possible = 0
  const failedRequired: string[] = []
  for (const item of items) {
    const a = byId.get(item.id)
    if (a === undefined || a === 'na') continue
    possible += item.weight
    if (a === 'yes') earned += item.weight
    else if (item.required) failedRequired.push(item.id)
  }
  const score = possible === 0 ? null : Math.round((earned / possible) * 10_000) / 100
  return { earned, possible, score, failedRequired }
}
