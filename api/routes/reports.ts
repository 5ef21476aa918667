/**
 * /v1/reports: per agent, per campaign and per site, for any period, as JSON or as CSV/XLSX files. Site-bound
 * callers get their own site; platform admins name one or get the whole platform. Agents get their own row only.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Db } from '../../engine/store/sql/db.js'
import { AbandonDenominator, ReportRepository, type ReportPeriod } from '../../engine/store/sql/reports.js'
import { principalOf, type Principal } from '../plugins/auth.js'
import { invalidField } from '../problem.js'
import { agentScope } from '../scope.js'
import { exportTable, ExportContentTypes, type ExportColumn, type ExportFormat } from '../exports/table-export.js'
import { agentReportSchema, campaignReportSchema, siteReportSchema } from '../schemas/report.js'
import type { AgentReportRow, CampaignReportRow } from '../../engine/store/sql/reports.js'
import { AgentStates } from '../../engine/acd/agent-state.js'

export interface ReportRoutesOptions {
  db: Db
  /** How often the engine samples agent states (the precision of time per state). */
  stateSampleSeconds?: number
}

type Query = { from: string; to: string; siteId?: string; format: 'json' | ExportFormat }

const MaxPeriodMs = 366 * 86_400_000

const Definitions = {
  connect: 'a call answered by a live person and put through to an agent (outcome connected)',
  connectRate: 'connects / calls dialed',
  abandonRate: `abandoned / (connects + abandoned): the ${AbandonDenominator} denominator`,
  conversion: 'an agent disposition whose code counts as a conversion',
  conversionRate: 'conversions / connects',
  lostInbound: 'an inbound call that ended without reaching an agent',
}

function period(p: Principal, q: Query): ReportPeriod {
  const from = Date.parse(q.from)
  const to = Date.parse(q.to)
  if (!(to > from)) throw invalidField('querystring.to', 'must be after from')
  if (to - from > MaxPeriodMs) throw invalidField('querystring.to', 'a period is at most 366 days; export several')
  if (p.siteId !== null && q.siteId !== undefined && q.siteId !== p.siteId) {
    throw invalidField('querystring.siteId', `you may report on site ${p.siteId} only`)
  }
  return { from, to, siteId: p.siteId ?? q.siteId ?? null }
}

const echo = (p: ReportPeriod) => ({ from: new Date(p.from).toISOString(), to: new Date(p.to).toISOString(), siteId: p.siteId })

async function sendFile<Row>(
  reply: FastifyReply,
  format: ExportFormat,
  name: string,
  p: ReportPeriod,
  columns: readonly ExportColumn<Row>[],
  rows: readonly Row[],
): Promise<FastifyReply> {
  const body = await exportTable(format, name, columns, rows)
  const stamp = `${echo(p).from.slice(0, 10)}_${echo(p).to.slice(0, 10)}`
  return reply
    .type(ExportContentTypes[format])
    .header('content-disposition', `attachment; filename="${name}-${stamp}.${format}"`)
    .send(body)
}

const pct = '0.0%'
const agentColumns: ExportColumn<AgentReportRow>[] = [
  { header: 'Agent id', value: (r) => r.agentId },
  { header: 'Agent', value: (r) => r.name },
  { header: 'Calls', value: (r) => r.calls },
  { header: 'Talk seconds', value: (r) => r.talkSeconds },
  { header: 'Average talk seconds', value: (r) => Math.round(r.averageTalkSeconds * 10) / 10 },
  { header: 'Conversions', value: (r) => r.conversions },
  ...AgentStates.map((s) => ({ header: `Seconds ${s}`, value: (r: AgentReportRow) => r.stateSeconds[s] ?? 0 })),
]
const campaignColumns: ExportColumn<CampaignReportRow>[] = [
  { header: 'Campaign id', value: (r) => r.campaignId },
  { header: 'Campaign', value: (r) => r.name },
  { header: 'Dialed', value: (r) => r.dialed },
  { header: 'Connects', value: (r) => r.connects },
  { header: 'Abandoned', value: (r) => r.abandoned },
  { header: 'Machines', value: (r) => r.machines },
  { header: 'Conversions', value: (r) => r.conversions },
  { header: 'Connect rate', value: (r) => r.connectRate, numFmt: pct },
  { header: `Abandon rate (${AbandonDenominator})`, value: (r) => r.abandonRate, numFmt: pct },
  { header: 'Conversion rate', value: (r) => r.conversionRate, numFmt: pct },
  { header: 'Talk seconds', value: (r) => r.talkSeconds },
  { header: 'Average talk seconds', value: (r) => Math.round(r.averageTalkSeconds * 10) / 10 },
  { header: 'Average wait seconds', value: (r) => Math.round(r.averageWaitSeconds * 100) / 100 },
]

export async function reportRoutes(app: FastifyInstance, options: ReportRoutesOptions): Promise<void> {
  const reports = new ReportRepository(options.db)

  app.get<{ Querystring: Query }>(
    '/v1/reports/agents',
    { schema: agentReportSchema, config: { auth: { roles: ['admin', 'supervisor', 'qa', 'agent'] } } },
    async (request, reply) => {
      const p = principalOf(request)
      const per = period(p, request.query)
      const rows = await reports.agents(per, agentScope(p))
      if (request.query.format !== 'json') return sendFile(reply, request.query.format, 'agents', per, agentColumns, rows)
      return { period: echo(per), definitions: Definitions, stateSampleSeconds: options.stateSampleSeconds ?? 60, items: rows }
    },
  )

  app.get<{ Querystring: Query }>(
    '/v1/reports/campaigns',
    { schema: campaignReportSchema, config: { auth: { roles: ['admin', 'supervisor', 'qa'] } } },
    async (request, reply) => {
      const per = period(principalOf(request), request.query)
      const rows = await reports.campaigns(per)
      if (request.query.format !== 'json') return sendFile(reply, request.query.format, 'campaigns', per, campaignColumns, rows)
      return { period: echo(per), definitions: Definitions, abandonDenominator: AbandonDenominator, items: rows }
    },
  )

  app.get<{ Querystring: Query }>(
    '/v1/reports/site',
    { schema: siteReportSchema, config: { auth: { roles: ['admin', 'supervisor', 'qa'] } } },
    async (request, reply) => {
      const per = period(principalOf(request), request.query)
      const site = await reports.site(per)
      if (request.query.format !== 'json') {
        const cols: ExportColumn<typeof site>[] = [
          { header: 'Site', value: (r) => r.siteId ?? 'all' },
          { header: 'Dialed', value: (r) => r.dialed },
          { header: 'Connects', value: (r) => r.connects },
          { header: 'Abandoned', value: (r) => r.abandoned },
          { header: 'Conversions', value: (r) => r.conversions },
          { header: 'Connect rate', value: (r) => r.connectRate, numFmt: pct },
          { header: `Abandon rate (${AbandonDenominator})`, value: (r) => r.abandonRate, numFmt: pct },
          { header: 'Conversion rate', value: (r) => r.conversionRate, numFmt: pct },
          { header: 'Talk seconds', value: (r) => r.talkSeconds },
          { header: 'Inbound calls', value: (r) => r.inbound.calls },
          { header: 'Lost inbound calls', value: (r) => r.inbound.lost },
          { header: 'Average inbound wait seconds', value: (r) => r.inbound.averageWaitSeconds },
        ]
        return sendFile(reply, request.query.format, 'site', per, cols, [site])
      }
      return { period: echo(per), definitions: Definitions, abandonDenominator: AbandonDenominator, site }
    },
  )
}
