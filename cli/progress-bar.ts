/**
 * A progress line for long CLI jobs: a bar when the total is known, a counter when it is not, redrawn in place on a
 * terminal and printed at most every few percent otherwise (so CI logs stay readable).
 */
export function renderProgress(done: number, total: number | undefined, label: string, width = 30): string {
  if (total === undefined || total <= 0) return `${label} ${formatCount(done)}`
  const f = Math.min(1, done / total)
  const filled = Math.round(f * width)
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(f * 100).toFixed(1).padStart(5)}% ${formatCount(done)}/${formatCount(total)}`
}

function formatCount(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)}M`
  if (n >= 1024) return `${(n / 1024).toFixed(1)}k`
  return String(n)
}

export class ProgressLine {
  private lastPrinted = -1

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly label: string,
    private readonly total: number | undefined,
  ) {}

  update(done: number): void {
    const line = renderProgress(done, this.total, this.label)
    if (this.out.isTTY) {
      this.out.write(`\r${line}`)
      return
    }
    const step = this.total ? Math.floor((done / this.total) * 10) : Math.floor(Math.log10(Math.max(1, done)))
    if (step !== this.lastPrinted) {
      this.lastPrinted = step
      this.out.write(`${line}\n`)
    }
  }

  finish(done: number): void {
    this.update(done)
    if (this.out.isTTY) this.out.write('\n')
  }
}
