/** Every instant the API returns is an ISO 8601 UTC string (`date-time` in the schemas); stored as epoch ms. */
export const iso = (ms: number): string => new Date(ms).toISOString()
