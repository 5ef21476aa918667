/**
 * Every real-time event Cadence tells desktops, supervisors and integrations, by name. Agent desktops get the ones
 * about their own calls; supervisors and webhooks get all of their site's.
 */
export const EventNames = {
  /** A customer was put through to an agent: the screen pop (ids and a masked number; the record comes from the CRM API). */
  CallOffered: 'call.offered',
  /** A call ended, with its outcome. */
  CallEnded: 'call.ended',
  /** A connected call ended: the agent owes a disposition. */
  DispositionDue: 'disposition.due',
  /** The agents of a campaign by state, every few seconds. */
  AgentStates: 'agent.states',
  /** A campaign's live figures, every few seconds. */
  CampaignFigures: 'campaign.figures',
} as const

export type EventName = (typeof EventNames)[keyof typeof EventNames]
export const AllEventNames: readonly EventName[] = Object.values(EventNames)

/** Events an agent's own stream carries (the rest are for supervisors and integrations). */
export const AgentEventNames: readonly EventName[] = [EventNames.CallOffered, EventNames.CallEnded, EventNames.DispositionDue]

export interface DomainEvent {
  type: EventName
  /** Epoch ms of the engine's clock. */
  at: number
  siteId: string
  campaignId?: string
  agentId?: string
  data: Record<string, unknown>
}

/** A published event with the id its stream gave it (resumable: SSE Last-Event-ID, webhook dedupe). */
export interface StoredEvent extends DomainEvent {
  id: string
}

export interface EventPublisher {
  publish(event: DomainEvent): Promise<void>
}
