/**
 * CPU time the PostgreSQL server spends for this bench: the client backends connected to the bench's database, read
 * from /proc/<pid>/stat (user + system). On a machine shared with other work, wall-clock rows/s mostly measure the
 * neighbours; CPU per row measures the import. Only works when PostgreSQL runs on this machine and /proc is readable
 * (otherwise `available` is false and the figures are left out). Background processes (WAL writer, checkpointer)
 * are not counted: they are shared by every database of the server.
 */
import { readFileSync } from 'node:fs'
import type { Queryable } from '../../engine/store/sql/db.js'

/** Linux reports utime/stime in clock ticks of 1/100 s on every architecture Node runs on. */
const MsPerTick = 10

function ticksOf(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces; fields after ") " are space-separated, utime and stime are 14 and 15.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return Number(f[11]) + Number(f[12])
  } catch {
    return undefined
  }
}

export class BackendCpu {
  private readonly first = new Map<number, number>()
  private readonly last = new Map<number, number>()
  available = true

  constructor(private readonly db: Queryable) {}

  /** Read every backend of the database now; a backend first seen now counts from here. */
  async sample(): Promise<void> {
    const r = await this.db.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'",
    )
    for (const { pid } of r.rows) {
      const t = ticksOf(pid)
      if (t === undefined) {
        this.available = false
        continue
      }
      if (!this.first.has(pid)) this.first.set(pid, t)
      this.last.set(pid, t)
    }
  }

  /** Milliseconds of CPU the backends used between their first and last samples. */
  get ms(): number {
    let ticks = 0
    for (const [pid, t] of this.last) ticks += t - this.first.get(pid)!
    return ticks * MsPerTick
  }
}
