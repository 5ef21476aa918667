import type { DialogProbe } from './live-call-reconcile.js'

/** Where bridge() finds an agent's nailed-up session (AgentSessions in production). */
export interface AgentSessionLookup {
  /** The id the session's media is anchored under, while it is up. */
  sessionId(agentId: string): string | undefined
  /** Tells when a session ended (the agent's phone hung up, logout): a customer joined to it is then hung up. */
  onSessionEnded?(listener: (agentId: string, sessionId: string) => void): void
  /** Tells the agent's phone something in its session (an INFO with headers): who a transferred customer is. */
  inform?(agentId: string, headers: Record<string, string>): Promise<DialogProbe>
}
