/**
 * Samples every agent's cumulative time in each state from the ACD, so reports can tell time per state for any
 * period without logging each transition from the several Lua scripts that make them. Driven by the injected clock,
 * so the simulator samples at its own speed.
 */
import type { AgentState } from '../acd/agent-state.js'
import { timeInState, type Agent } from '../acd/agent-machine.js'
import type { Clock, TimerHandle } from '../clock.js'

export interface AgentSource {
  agentIds(): Promise<string[]>
  get(agentId: string): Promise<Agent | undefined>
}

export interface AgentStateSample {
  agentId: string
  at: number
  /** Cumulative seconds in each state, the open span included. */
  seconds: Record<AgentState, number>
}

export interface AgentStateSampleSink {
  appendSamples(samples: readonly AgentStateSample[]): Promise<void>
}

export function sampleOf(agent: Agent, now: number): AgentStateSample {
  const ms = timeInState(agent, now)
  const seconds = {} as Record<AgentState, number>
  for (const [state, v] of Object.entries(ms) as Array<[AgentState, number]>) seconds[state] = Math.round(v) / 1000
  return { agentId: agent.id, at: now, seconds }
}

export interface SamplerLog {
  warn(obj: object, msg: string): void
}

export class AgentStateSampler {
  private timer: TimerHandle | undefined
  private running = false

  constructor(
    private readonly o: { source: AgentSource; sink: AgentStateSampleSink; clock: Clock; intervalMs?: number; log: SamplerLog },
  ) {}

  async sampleNow(): Promise<number> {
    const now = this.o.clock.now()
    const samples: AgentStateSample[] = []
    for (const id of await this.o.source.agentIds()) {
      const agent = await this.o.source.get(id)
      if (agent) samples.push(sampleOf(agent, now))
    }
    if (samples.length > 0) await this.o.sink.appendSamples(samples)
    return samples.length
  }

  start(): void {
    const every = this.o.intervalMs ?? 60_000
    this.running = true
    const loop = (): void => {
      this.timer = this.o.clock.setTimeout(() => {
        this.sampleNow()
          .catch((err: unknown) => this.o.log.warn({ err }, 'agent state sample failed; the next one covers the gap'))
          .finally(() => {
            if (this.running) loop()
          })
      }, every)
    }
    loop()
  }

  stop(): void {
    this.running = false
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer)
    this.timer = undefined
  }
}
