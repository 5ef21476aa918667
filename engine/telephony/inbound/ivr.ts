/**
 * Inbound calls through an IVR into ACD queues (issue 5 §5), the pure part: what a number's menu is, and what happens
 * next given what the caller pressed, a timer or an agent becoming free. The drachtio shell
 * (telephony/drachtio/inbound-calls.ts) carries out the effects: prompts and music through rtpengine, queues through
 * the ACD (a queue is an ACD skill), the bridge to an agent's nailed-up session.
 */

/** One of our numbers: the menu callers hear and where each key sends them. */
export interface InboundNumber {
  /** The number callers dial, as the carrier sends it in the request URI's user part (e.g. 4008001234 or +86...). */
  number: string
  /** The campaign inbound CDRs are filed under (reports group by it and its site). */
  campaignId: string
  menu: IvrMenu
  /** Longest a caller waits in a queue before the overflow prompt and the callback request. */
  maxWaitMs: number
  /** Played when the wait is over, before hanging up: "we will call you back". */
  overflowPrompt: string
  /**
   * Instead of the overflow prompt, a caller whose wait ran out may leave a message: the greeting ("after the tone")
   * plays, then what they say is recorded until they press # or hang up, or `maxMessageMs` is over. A callback is
   * requested either way.
   */
  voicemail?: Voicemail
}

export interface Voicemail {
  /** The greeting, ending with the tone. */
  prompt: string
  maxMessageMs: number
}

export interface IvrMenu {
  prompt: string
  /** Key -> queue (an ACD skill). */
  options: Record<string, { queue: string }>
  /** How long after the prompt a key is waited for. */
  timeoutMs: number
  /** Times the menu is played again after a timeout or a wrong key before the caller is let go. */
  retries: number
}

/** Checks inbound numbers from configuration; every problem named, by number and field. */
export function validateInboundNumbers(raw: unknown): InboundNumber[] {
  if (!Array.isArray(raw)) throw new Error('inbound numbers: expected an array')
  const problems: string[] = []
  const seen = new Set<string>()
  const out: InboundNumber[] = []
  raw.forEach((n: unknown, i) => {
    const at = `inbound[${i}]`
    const o = (n ?? {}) as Record<string, unknown>
    const m = (o['menu'] ?? {}) as Record<string, unknown>
    const str = (v: unknown, field: string): string => {
      if (typeof v !== 'string' || v.length === 0) problems.push(`${at}.${field}: expected a non-empty string`)
      return typeof v === 'string' ? v : ''
    }
    const ms = (v: unknown, field: string, min: number): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) problems.push(`${at}.${field}: expected an integer of at least ${min}`)
      return typeof v === 'number' ? v : min
    }
    const number = str(o['number'], 'number')
    if (seen.has(number)) problems.push(`${at}.number: ${number} is configured twice`)
    seen.add(number)
    const options: Record<string, { queue: string }> = {}
    const rawOptions = (m['options'] ?? {}) as Record<string, unknown>
    for (const [key, v] of Object.entries(rawOptions)) {
      if (!/^[0-9*#]$/.test(key)) problems.push(`${at}.menu.options.${key}: a key is one of 0-9 * #`)
      const queue = ((v ?? {}) as Record<string, unknown>)['queue']
      if (typeof queue !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(queue)) problems.push(`${at}.menu.options.${key}.queue: expected a queue name (letters, digits, - and _)`)
      else options[key] = { queue }
    }
    if (Object.keys(rawOptions).length === 0) problems.push(`${at}.menu.options: at least one key must lead to a queue`)
    out.push({
      number,
      campaignId: str(o['campaignId'], 'campaignId'),
      menu: { prompt: str(m['prompt'], 'menu.prompt'), options, timeoutMs: ms(m['timeoutMs'], 'menu.timeoutMs', 1000), retries: ms(m['retries'] ?? 2, 'menu.retries', 0) },
      maxWaitMs: ms(o['maxWaitMs'], 'maxWaitMs', 1000),
      overflowPrompt: str(o['overflowPrompt'], 'overflowPrompt'),
      ...(o['voicemail'] === undefined
        ? {}
        : {
            voicemail: {
              prompt: str(((o['voicemail'] ?? {}) as Record<string, unknown>)['prompt'], 'voicemail.prompt'),
              maxMessageMs: ms(((o['voicemail'] ?? {}) as Record<string, unknown>)['maxMessageMs'] ?? 60_000, 'voicemail.maxMessageMs', 5000),
            },
          }),
    })
  })
  if (problems.length > 0) throw new Error(problems.join('; '))
  return out
}

/** greeting: the voicemail greeting plays; message: the caller's message is being recorded. */
export type InboundPhase = 'menu' | 'queued' | 'bridged' | 'leaving' | 'greeting' | 'message' | 'done'

export interface InboundCall {
  phase: InboundPhase
  /** Menu plays so far. */
  plays: number
  queue?: string
  queuedAt?: number
  agentId?: string
  bridgedAt?: number
  /** How it ended, once done. */
  outcome?: InboundOutcome
}

/**
 * answered: reached an agent; lost: hung up before one; overflow: the wait ran out; voicemail: the wait ran out and
 * the caller left a message; no-choice: never chose a queue.
 */
export type InboundOutcome = 'answered' | 'lost' | 'overflow' | 'voicemail' | 'no-choice'

export type InboundInput =
  | { type: 'digit'; digit: string; at: number }
  /** The menu has played and no key came within its timeout. */
  | { type: 'menu-timeout'; at: number }
  | { type: 'agent-found'; agentId: string; at: number }
  | { type: 'max-wait'; at: number }
  /** The overflow prompt has played. */
  | { type: 'left'; at: number }
  | { type: 'caller-hung-up'; at: number }
  | { type: 'agent-hung-up'; at: number }
  /** The voicemail greeting (and its tone) has played. */
  | { type: 'greeting-played'; at: number }
  /** The longest message a caller may leave is over. */
  | { type: 'message-timeout'; at: number }

export type InboundEffect =
  | { type: 'play-menu' }
  | { type: 'enqueue'; queue: string }
  | { type: 'bridge'; agentId: string }
  | { type: 'play-overflow' }
  | { type: 'play-greeting' }
  /** Start recording the caller (and the message's time limit). */
  | { type: 'record-message' }
  | { type: 'request-callback' }
  | { type: 'hangup' }
  | { type: 'finish'; outcome: InboundOutcome }

export function newInboundCall(): { call: InboundCall; effects: InboundEffect[] } {
  return { call: { phase: 'menu', plays: 1 }, effects: [{ type: 'play-menu' }] }
}

const done = (call: InboundCall, outcome: InboundOutcome, hangup: boolean): { call: InboundCall; effects: InboundEffect[] } => ({
  call: { ...call, phase: 'done', outcome },
  effects: [...(hangup ? [{ type: 'hangup' } as const] : []), { type: 'finish', outcome }],
})

/** `voicemail`: the number takes messages when the wait runs out (InboundNumber.voicemail). */
export function inboundStep(menu: IvrMenu, call: InboundCall, input: InboundInput, voicemail = false): { call: InboundCall; effects: InboundEffect[] } {
  if (call.phase === 'done') return { call, effects: [] }
  if (input.type === 'caller-hung-up') return done(call, call.phase === 'bridged' ? 'answered' : call.outcome ?? (call.phase === 'menu' ? 'no-choice' : 'lost'), false)
  switch (call.phase) {
    case 'menu': {
      if (input.type === 'digit') {
        const option = menu.options[input.digit]
        if (option) return { call: { ...call, phase: 'queued', queue: option.queue, queuedAt: input.at }, effects: [{ type: 'enqueue', queue: option.queue }] }
      } else if (input.type !== 'menu-timeout') return { call, effects: [] }
      // a wrong key or silence: the menu again, a bounded number of times
      if (call.plays > menu.retries) return done(call, 'no-choice', true)
      return { call: { ...call, plays: call.plays + 1 }, effects: [{ type: 'play-menu' }] }
    }
    case 'queued':
      if (input.type === 'agent-found') return { call: { ...call, phase: 'bridged', agentId: input.agentId, bridgedAt: input.at }, effects: [{ type: 'bridge', agentId: input.agentId }] }
      if (input.type === 'max-wait' && voicemail) return { call: { ...call, phase: 'greeting', outcome: 'overflow' }, effects: [{ type: 'request-callback' }, { type: 'play-greeting' }] }
      if (input.type === 'max-wait') return { call: { ...call, phase: 'leaving', outcome: 'overflow' }, effects: [{ type: 'request-callback' }, { type: 'play-overflow' }] }
      return { call, effects: [] }
    case 'greeting':
      // hanging up during the greeting leaves no message: an overflow (the callback is filed)
      return input.type === 'greeting-played' ? { call: { ...call, phase: 'message', outcome: 'voicemail' }, effects: [{ type: 'record-message' }] } : { call, effects: [] }
    case 'message':
      if ((input.type === 'digit' && input.digit === '#') || input.type === 'message-timeout') return done(call, 'voicemail', true)
      return { call, effects: [] }
    case 'leaving':
      return input.type === 'left' ? done(call, 'overflow', true) : { call, effects: [] }
    case 'bridged':
      return input.type === 'agent-hung-up' ? done(call, 'answered', true) : { call, effects: [] }
  }
}
