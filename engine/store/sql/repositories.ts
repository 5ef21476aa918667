/** Every repository over one Queryable: the Db itself, or a transaction's handle so several writes commit together. */
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
}

export function repositories(db: Queryable): Repositories {
  return {
    campaigns: new CampaignRepository(db),
    leads: new LeadRepository(db),
    cdrs: new CdrRepository(db),
    agents: new AgentRepository(db),
    apiKeys: new ApiKeyRepository(db),
    audit: new AuditLogRepository(db),
    leadLists: new LeadListRepository(db),
    leadImports: new LeadImportRepository(db),
    dnc: new DncRepository(db),
    sites: new SiteRepository(db),
    users: new UserRepository(db),
    userTokens: new UserTokenRepository(db),
  }
}
