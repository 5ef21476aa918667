/**
 * The listeners of one TelephonyPort, per event name. Both adapters (drachtio, sim) keep one, so `on`/`off`/emit
 * behave the same whichever port the engine runs on.
 */
import type { CallEventListener, CallEventMap, CallEventName } from './port.js'

export class CallEventBus {
  private readonly listeners = new Map<CallEventName, Set<(e: never) => void>>()

  /** With `onListenerError`, a listener that throws is reported there and the others still hear the event. */
  constructor(private readonly onListenerError?: (err: unknown, event: CallEventName) => void) {}

  on<E extends CallEventName>(event: E, listener: CallEventListener<E>): void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as (e: never) => void)
  }

  off<E extends CallEventName>(event: E, listener: CallEventListener<E>): void {
    this.listeners.get(event)?.delete(listener as (e: never) => void)
  }

  emit<E extends CallEventName>(event: E, payload: CallEventMap[E]): void {
    const set = this.listeners.get(event)
    if (!set) return
    for (const l of [...set]) {
      if (!this.onListenerError) {
        ;(l as CallEventListener<E>)(payload)
        continue
      }
      try {
        ;(l as CallEventListener<E>)(payload)
      } catch (err) {
        this.onListenerError(err, event)
      }
    }
  }
}
