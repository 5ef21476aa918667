/**
 * Agent states shared by ACD, pacing and the simulator. Pacing counts `ready` agents as free now and `on-call` /
 * `wrap-up` agents as about to free up; `reserved` agents are promised to a call and count as busy.
 */
export const AgentStates = ['logged-out', 'ready', 'reserved', 'on-call', 'wrap-up', 'paused'] as const
export type AgentState = (typeof AgentStates)[number]
