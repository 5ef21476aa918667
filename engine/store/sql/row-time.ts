/** Conversions between PostgreSQL timestamptz (Date in both drivers) and the engine's epoch milliseconds. */

export function msOf(d: Date): number {
  return d.getTime()
}

export function optionalMs(d: Date | null): number | undefined {
  return d === null ? undefined : d.getTime()
}

export function dateOrNull(ms: number | undefined): Date | null {
  return ms === undefined ? null : new Date(ms)
}
