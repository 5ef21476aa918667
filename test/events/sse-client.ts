/** A minimal Server-Sent Events reader over fetch, for tests: collects events until told how many it wants. */
export interface SseEvent {
  id: string
  event: string
  data: Record<string, unknown>
}

export class SseClient {
  readonly events: SseEvent[] = []
  private readonly abort = new AbortController()
  private waiters: Array<{ n: number; resolve: () => void }> = []
  status = 0
  private opened!: Promise<void>

  constructor(url: string, headers: Record<string, string>) {
    this.opened = this.run(url, headers)
  }

  private async run(url: string, headers: Record<string, string>): Promise<void> {
    const res = await fetch(url, { headers, signal: this.abort.signal })
    this.status = res.status
    if (!res.body) return
    const decoder = new TextDecoder()
    let buf = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true })
        let i: number
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i)
          buf = buf.slice(i + 2)
          const lines = block.split('\n')
          const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2)
          const data = field('data')
          if (data === undefined) {
            if (block.startsWith(': connected')) this.wake()
            continue
          }
          this.events.push({ id: field('id') ?? '', event: field('event') ?? '', data: JSON.parse(data) as Record<string, unknown> })
          this.wake()
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err
    }
  }

  private connected = false
  private wake(): void {
    this.connected = true
    this.waiters = this.waiters.filter((w) => (this.events.length >= w.n ? (w.resolve(), false) : true))
  }

  /** Resolves once the server said it is connected (the subscription exists). */
  async ready(): Promise<void> {
    while (!this.connected) {
      if (this.status !== 0 && this.status !== 200) return
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  until(n: number): Promise<void> {
    if (this.events.length >= n) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ n, resolve }))
  }

  async close(): Promise<void> {
    this.abort.abort()
    await this.opened.catch(() => undefined)
  }
}
