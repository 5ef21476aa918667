/**
 * Every repository over one Queryable: the Db itself, or a transaction's handle so several writes commit together.
 * The repositories of personal data (CRM, leads and their lists, recordings) store it encrypted and need the
 * PiiCipher; built without one, they throw on use.
 */
import type { PiiCipher } from '../../security/pii-cipher.js'
import { CallbackRepository } from './callbacks.js'
import { CustomerDispositionRepository } from './customer-dispositions.js'
import { CustomerNoteRepository } from './customer-notes.js'
import { CustomerTimelineRepository } from './customer-timeline.js'
import { CustomerRepository } from './customers.js'
import { AgentRepository } from './agents.js'
import { ApiKeyRepository } from './api-keys.js'
import { AuditLogRepository } from './audit-log.js'
import { CampaignRepository } from './campaigns.js'
import { CdrRepository } from './cdrs.js'
import type { Queryable } from './db.js'
import { DncRepository } from './dnc.js'
import { LeadImportRepository } from './lead-imports.js'
import { LeadListRepository } from './lead-lists.js'
import { LeadRepository } from './leads.js'
import { SiteRepository } from './sites.js'
import { UserTokenRepository } from './user-tokens.js'
import { UserRepository } from './users.js'
import { KeywordHitRepository } from './keyword-hits.js'
import { QaFormRepository } from './qa-forms.js'
import { QaReportRepository } from './qa-reports.js'
import { QaSampleRepository } from './qa-samples.js'
import { QaScoreRepository } from './qa-scores.js'
import { RecordingRepository } from './recordings.js'

export interface Repositories {
  campaigns: CampaignRepository
  leads: LeadRepository
  cdrs: CdrRepository
  agents: AgentRepository
  apiKeys: ApiKeyRepository
  audit: AuditLogRepository
  leadLists: LeadListRepository
  leadImports: LeadImportRepository
  dnc: DncRepository
  sites: SiteRepository
  users: UserRepository
  userTokens: UserTokenRepository
  customers: CustomerRepository
  customerNotes: CustomerNoteRepository
  customerDispositions: CustomerDispositionRepository
  customerTimeline: CustomerTimelineRepository
  callbacks: CallbackRepository
  recordings: RecordingRepository
  keywordHits: KeywordHitRepository
  qaForms: QaFormRepository
  qaScores: QaScoreRepository
  qaSamples: QaSampleRepository
  qaReports: QaReportRepository
}

export function repositories(db: Queryable, pii?: PiiCipher): Repositories {
  const cipher = (): PiiCipher => {
    if (pii === undefined) throw new Error('repositories(db) was built without a PiiCipher: pass one for CRM data')
    return pii
  }
  return {
    get customers() {
      return new CustomerRepository(db, cipher())
    },
    get customerNotes() {
      return new CustomerNoteRepository(db, cipher())
    },
    customerDispositions: new CustomerDispositionRepository(db),
    get customerTimeline() {
      return new CustomerTimelineRepository(db, cipher())
    },
    get callbacks() {
      return new CallbackRepository(db, cipher())
    },
    get recordings() {
      return new RecordingRepository(db, cipher())
    },
    keywordHits: new KeywordHitRepository(db),
    qaForms: new QaFormRepository(db),
    qaScores: new QaScoreRepository(db),
    qaSamples: new QaSampleRepository(db),
    qaReports: new QaReportRepository(db),
    campaigns: new CampaignRepository(db),
    get leads() {
      return new LeadRepository(db, cipher())
    },
    cdrs: new CdrRepository(db),
    agents: new AgentRepository(db),
    apiKeys: new ApiKeyRepository(db),
    audit: new AuditLogRepository(db),
    get leadLists() {
      return new LeadListRepository(db, cipher())
    },
    leadImports: new LeadImportRepository(db),
    // prefixes need no key; a listed number is sealed, so reading or writing one needs the cipher
    dnc: new DncRepository(db, pii),
    sites: new SiteRepository(db),
    users: new UserRepository(db),
    userTokens: new UserTokenRepository(db),
  }
}
