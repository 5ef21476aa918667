/** Where bridge() finds an agent's nailed-up session (AgentSessions in production). */
export interface AgentSessionLookup {
  /** The id the session's media is anchored under, while it is up. */
  sessionId(agentId: string): string | undefined
  /** Tells when a session ended (the agent's phone hung up, logout): a customer joined to it is then hung up. */
  onSessionEnded?(listener: (agentId: string, sessionId: string) => void): void
}
