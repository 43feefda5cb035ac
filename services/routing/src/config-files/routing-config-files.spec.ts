import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideRoute, type OwnerLoad } from '../domain/index.js';
import { ROUTING_CONFIG_FILES, defaultConfigDir, loadRoutingConfig } from './routing-config-files.js';

describe('loadRoutingConfig with the shipped seed files', () => {
  const config = loadRoutingConfig();
  const route = (lead: Parameters<typeof decideRoute>[0], now = new Date()) =>
    decideRoute(lead, { ...config, load: new Map<string, OwnerLoad>(), now });

  it('finds services/routing/config from the module location', () => {
    expect(defaultConfigDir()).toMatch(/services\/routing\/config\/?$/);
  });

  it('loads versioned rules, teams, owners and accounts that agree with each other', () => {
    expect(config.versions).toEqual({ rules: '2026-11-01.1', owners: '2026-11-27.1', accounts: '2026-11-01.1' });
    expect(config.teams.map((t) => t.id)).toEqual(['enterprise-na', 'mid-market-emea', 'smb-global', 'sales-ops']);
    expect(config.owners.length).toBeGreaterThanOrEqual(8);
    // Every shipped owner is a user in both CRMs, so the CRM owner field follows routing.
    for (const owner of config.owners) expect(owner.crmUserIds).toEqual({ salesforceUserId: expect.stringMatching(/^005/), hubspotOwnerId: expect.stringMatching(/^\d+$/) });
    expect(config.ruleSet.rules.map((r) => r.id)).toEqual(['enterprise-na', 'mid-market-emea', 'contact-sales-form', 'smb-catch-all']);
    expect(config.owners.some((o) => o.id === config.ruleSet.fallbackOwnerId)).toBe(true);
    expect(config.accountOwners.get('initech.io')).toBe('tom-hughes');
  });

  it('ships an always-available 3:1 SMB pool, so integration tests run at any hour', () => {
    const smb = config.owners.filter((o) => o.teamId === 'smb-global');
    expect(smb.map((o) => [o.id, o.weight])).toEqual([['priya-nair', 3], ['tom-hughes', 1]]);
    for (const o of smb) expect(o.workingHours).toEqual({ days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' });
    expect(route({ email: 'sam@smallshop.example', country: 'US', formId: 'contact-sales' })).toMatchObject({ ruleId: 'contact-sales-form', ownerId: 'priya-nair' });
  });

  it('ships owners with restricted working hours', () => {
    // Sunday 03:00 in New York: the enterprise team is off, so the lead falls back.
    const decision = route({ email: 'cio@bigco.example', country: 'US', grade: 'A1', companySize: 5000 }, new Date('2026-11-29T08:00:00Z'));
    expect(decision).toMatchObject({ via: 'FALLBACK', ownerId: 'dana-whitfield' });
    expect(decision.reason).toContain("Rule 'enterprise-na'");
    expect(decision.reason).toContain('outside working hours');
    // Thursday 11:00 in New York: Avery works then.
    expect(route({ email: 'cio@bigco.example', country: 'US', grade: 'A1', companySize: 5000 }, new Date('2026-11-26T16:00:00Z')).via).toBe('RULE');
  });

  it('routes a seeded account to its owner ahead of the rules', () => {
    expect(route({ email: 'ops@initech.io', country: 'US' })).toMatchObject({ via: 'ACCOUNT', ownerId: 'tom-hughes' });
  });
});

describe('loadRoutingConfig with broken files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'routing-config-'));
    for (const file of Object.values(ROUTING_CONFIG_FILES)) copyFileSync(join(defaultConfigDir(), file), join(dir, file));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const edit = (file: string, from: string, to: string) => {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain(from);
    writeFileSync(path, text.replace(from, to));
  };

  it('names the file and the path of a bad value', () => {
    edit('routing-rules.yaml', 'stages: [MQL]', 'stages: [SQL]');
    expect(() => loadRoutingConfig(dir)).toThrow(/routing-rules\.yaml: rules\[1\]\.match\.stages\[0\]: "SQL" is not one of LEAD, MQL/);
  });

  it('refuses a rule that assigns to a team nobody defined', () => {
    edit('routing-rules.yaml', 'assignTo: { teamId: smb-global }', 'assignTo: { teamId: smb-worldwide }');
    expect(() => loadRoutingConfig(dir)).toThrow(/rules\[2\]\.assignTo\.teamId: team "smb-worldwide" is not defined/);
  });

  it('refuses an account owned by an unknown owner', () => {
    edit('accounts.yaml', 'ownerId: tom-hughes', 'ownerId: tom-hughs');
    expect(() => loadRoutingConfig(dir)).toThrow(/accounts\[initech\.io\]\.ownerId: owner "tom-hughs" is not defined/);
  });

  it('reports a missing file by its path', () => {
    rmSync(join(dir, 'owners.yaml'));
    expect(() => loadRoutingConfig(dir)).toThrow(/owners\.yaml: ENOENT/);
  });
});
