/**
 * Asks a dialog's far end something every `everyMs` and reports when it is gone: an in-dialog OPTIONS for a dialog
 * whose BYE would no longer reach us (orphaned by a reconnect), an UPDATE for an RFC 4028 session refresh. An answer
 * (anything but 481 or 408) means it is there and it is asked again; a request that could not be sent while the
 * admin connection is down says nothing about the far end (asked again, or left to the reconnect's reconcile, as the
 * caller chooses); anything else is `gone`, told once. Used for customer legs, agents' sessions and inbound calls.
 */
import type { Clock, TimerHandle } from '../../clock.js'
import type { DrachtioConnection } from './connection.js'
import { requestInDialog } from './dialog-request.js'
import { dialogAlive, type DialogProbe } from './live-call-reconcile.js'

export interface DialogWatchOptions {
  connection: DrachtioConnection
  clock: Clock
  /** The dialog's id in drachtio-server's stack. */
  dialogId: string
  method: 'OPTIONS' | 'UPDATE'
  headers?: Record<string, string>
  everyMs: number
  /** Bound on one request beyond the server's own 408. */
  limitMs: number
  /** Whether the dialog is still the one watched, checked when asking and on the answer. */
  current(): boolean
  /** What a request not sent while drachtio is down does: ask again later, or stop (a reconcile will decide). */
  whileDown: 'ask-again' | 'stop'
  gone(probe: DialogProbe): void
}

export class DialogWatch {
  private timer: TimerHandle | undefined
  private stopped = false

  constructor(private readonly o: DialogWatchOptions) {
    this.arm()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) this.o.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm(): void {
    const o = this.o
    this.timer = o.clock.setTimeout(() => {
      this.timer = undefined
      if (this.stopped || !o.current()) return
      void requestInDialog(o.connection, o.dialogId, o.method, o.limitMs, o.headers ?? {}).then((probe) => {
        if (this.stopped || !o.current()) return
        if (dialogAlive(probe)) return this.arm()
        if (probe.kind === 'not-sent' && !o.connection.connected) {
          if (o.whileDown === 'ask-again') this.arm()
          return
        }
        this.stopped = true
        o.gone(probe)
      })
    }, o.everyMs)
  }
}
