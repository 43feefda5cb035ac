import { FieldMappingConfigError, FieldMappingError, mapToCrm, parseFieldMapping, toContactFields, type CrmLeadSnapshot, type FieldMapping } from './field-mapping.js';

const lead = (overrides: Partial<CrmLeadSnapshot> = {}): CrmLeadSnapshot => ({
  leadId: 'lead-42',
  contact: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', company: 'Analytical Engines', country: 'GB' },
  source: { formId: 'contact-sales', utmSource: 'google', utmMedium: 'cpc', utmCampaign: 'q3' },
  consent: { emailMarketing: true },
  score: { fitScore: 70, engagementScore: 35, grade: 'A2', lifecycleStage: 'mql', ruleSetVersion: '3' },
  assignment: { ownerId: 'owner-7', ownerName: 'Grace', teamId: 'emea' },
  receivedAt: new Date('2025-03-01T10:00:00Z'),
  ...overrides,
});

const mapping = (fields: FieldMapping['fields']): FieldMapping => ({ version: 1, crm: 'salesforce', fields });

describe('mapToCrm', () => {
  it('maps present values, skips FROM_CRM fields and leaves out absent optional ones', () => {
    const out = mapToCrm(lead(), mapping([
      { from: 'contact.email', to: 'Email', direction: 'BOTH', required: true },
      { from: 'contact.phone', to: 'Phone', direction: 'TO_CRM' },
      { from: 'contact.firstName', to: 'FirstName', direction: 'FROM_CRM' },
      { from: 'score.grade', to: 'Lead_Grade__c', direction: 'TO_CRM' },
    ]));
    expect(out).toEqual({ Email: 'ada@example.com', Lead_Grade__c: 'A2' });
  });

  it('inverts consent with "not" and converts numbers, strings and dates', () => {
    const out = mapToCrm(lead(), mapping([
      { from: 'consent.emailMarketing', to: 'HasOptedOutOfEmail', direction: 'TO_CRM', transform: 'not' },
      { from: 'score.ruleSetVersion', to: 'Rules__c', direction: 'TO_CRM', transform: 'number' },
      { from: 'score.fitScore', to: 'Fit__c', direction: 'TO_CRM', transform: 'string' },
      { from: 'receivedAt', to: 'Received__c', direction: 'TO_CRM', transform: 'isoDate' },
    ]));
    expect(out).toEqual({ HasOptedOutOfEmail: false, Rules__c: 3, Fit__c: '70', Received__c: '2025-03-01T10:00:00.000Z' });
  });

  it('uses the default for a missing required value instead of failing', () => {
    const out = mapToCrm(lead({ contact: { email: 'x@example.com', lastName: '  ' } }), mapping([
      { from: 'contact.lastName', to: 'LastName', direction: 'TO_CRM', required: true, default: '[not provided]' },
    ]));
    expect(out).toEqual({ LastName: '[not provided]' });
  });

  it('names the lead and the field when a required value is missing', () => {
    const run = () => mapToCrm(lead({ contact: { email: 'x@example.com' } }), mapping([
      { from: 'contact.company', to: 'Company', direction: 'TO_CRM', required: true },
    ]));
    expect(run).toThrow(FieldMappingError);
    expect(run).toThrow('lead lead-42: field contact.company -> Company: required value is missing');
    try {
      run();
    } catch (err) {
      expect(err).toMatchObject({ leadId: 'lead-42', field: 'contact.company', crmField: 'Company' });
    }
  });

  it('fails a transform that cannot convert, naming the field', () => {
    const run = () => mapToCrm(lead(), mapping([{ from: 'score.grade', to: 'Grade_Number__c', direction: 'TO_CRM', transform: 'number' }]));
    expect(run).toThrow(/lead lead-42: field score\.grade -> Grade_Number__c: "A2" is not a number/);
  });

  it('translates picklist values, with a catch-all, and refuses unlisted values without one', () => {
    const withCatchAll = mapToCrm(lead({ source: { utmMedium: 'newsletter' } }), mapping([
      { from: 'source.utmMedium', to: 'LeadSource', direction: 'TO_CRM', values: { cpc: 'Advertisement', '*': 'Web' } },
    ]));
    expect(withCatchAll).toEqual({ LeadSource: 'Web' });
    expect(() => mapToCrm(lead(), mapping([
      { from: 'score.lifecycleStage', to: 'Status', direction: 'TO_CRM', values: { lead: 'Open' } },
    ]))).toThrow(/field score\.lifecycleStage -> Status: value "mql" has no entry/);
  });

  it('looks owners up in the CRM directory and refuses an owner without a CRM user', () => {
    const owners = mapping([{ from: 'assignment.ownerId', to: 'hubspot_owner_id', direction: 'TO_CRM', transform: 'ownerLookup' }]);
    expect(mapToCrm(lead(), owners, (id) => (id === 'owner-7' ? '9001' : undefined))).toEqual({ hubspot_owner_id: '9001' });
    expect(() => mapToCrm(lead(), owners, () => undefined)).toThrow(/assignment\.ownerId -> hubspot_owner_id: owner "owner-7" has no CRM user/);
    expect(() => mapToCrm(lead(), owners)).toThrow(/needs an owner directory/);
  });

  it('treats a lead without a score or assignment as missing values, not as a crash', () => {
    const out = mapToCrm(lead({ score: undefined, assignment: undefined }), mapping([
      { from: 'score.grade', to: 'Lead_Grade__c', direction: 'TO_CRM' },
      { from: 'assignment.ownerId', to: 'Owner__c', direction: 'TO_CRM', transform: 'ownerLookup' },
    ]));
    expect(out).toEqual({});
  });
});

describe('parseFieldMapping', () => {
  const valid = { version: 2, crm: 'hubspot', fields: [{ from: 'contact.email', to: 'email', direction: 'BOTH', required: true }] };

  it('accepts a valid mapping', () => {
    expect(parseFieldMapping(valid)).toEqual(valid);
  });

  it.each([
    [{ ...valid, version: 0 }, 'version: must be a positive integer'],
    [{ ...valid, crm: 'pipedrive' }, 'crm: must be "salesforce" or "hubspot"'],
    [{ ...valid, fields: [] }, 'fields: must be a non-empty list'],
    [{ ...valid, fields: [{ ...valid.fields[0], from: 'contact.mail' }] }, 'fields[0].from: must be one of'],
    [{ ...valid, fields: [{ ...valid.fields[0], to: 'e-mail' }] }, 'fields[0].to: must be a CRM field API name'],
    [{ ...valid, fields: [{ ...valid.fields[0], direction: 'UP' }] }, 'fields[0].direction: must be one of'],
    [{ ...valid, fields: [{ ...valid.fields[0], transform: 'upper' }] }, 'fields[0].transform: must be one of'],
    [{ ...valid, fields: [{ ...valid.fields[0], colour: 'red' }] }, 'fields[0].colour: unknown key'],
    [{ ...valid, fields: [{ ...valid.fields[0], values: { a: {} } }] }, 'fields[0].values.a: must be a string'],
    [{ ...valid, fields: [valid.fields[0], { ...valid.fields[0], from: 'leadId' }] }, 'fields[1].to: "email" is mapped twice'],
  ])('names the bad path (%#)', (raw, message) => {
    expect(() => parseFieldMapping(raw)).toThrow(FieldMappingConfigError);
    expect(() => parseFieldMapping(raw)).toThrow(message);
  });
});

describe('parseFieldMapping: ownership and issues', () => {
  const file = (entry: Record<string, unknown>) => ({ version: 3, crm: 'salesforce', fields: [{ from: 'contact.email', to: 'Email', direction: 'BOTH', ...entry }] });
  it('reads ownedBy, forwardOnly and reportMissing', () => {
    expect(parseFieldMapping(file({ ownedBy: 'leadmesh', forwardOnly: [false, true] })).fields[0]).toMatchObject({ ownedBy: 'leadmesh', forwardOnly: [false, true] });
    expect(parseFieldMapping(file({ reportMissing: { code: 'OWNER_NOT_MAPPED', about: 'assignment.ownerId' } })).fields[0]?.reportMissing).toEqual({ code: 'OWNER_NOT_MAPPED', about: 'assignment.ownerId' });
  });
  it('names the key that is wrong', () => {
    expect(() => parseFieldMapping(file({ ownedBy: 'sales' }))).toThrow('fields[0].ownedBy: must be "leadmesh" or "crm"');
    expect(() => parseFieldMapping(file({ forwardOnly: ['only'] }))).toThrow('fields[0].forwardOnly: must list at least two values');
    expect(() => parseFieldMapping(file({ reportMissing: { code: 'owner missing' } }))).toThrow('fields[0].reportMissing.code');
    expect(() => parseFieldMapping(file({ required: true, reportMissing: { code: 'X' } }))).toThrow('a required field cannot be reported missing');
  });
});

describe('toContactFields', () => {
  it("keeps the fields a converted Lead's Contact has, under the Contact's names", () => {
    const mapping: FieldMapping = {
      version: 4,
      crm: 'salesforce',
      fields: [
        { from: 'contact.country', to: 'Country', direction: 'BOTH', contactField: 'MailingCountry' },
        { from: 'consent.emailMarketing', to: 'HasOptedOutOfEmail', direction: 'BOTH', transform: 'not', contactField: 'HasOptedOutOfEmail' },
        { from: 'score.grade', to: 'Lead_Grade__c', direction: 'TO_CRM' },
      ],
    };
    expect(toContactFields({ Country: 'DE', HasOptedOutOfEmail: true, Lead_Grade__c: 'A1' }, mapping)).toEqual({ MailingCountry: 'DE', HasOptedOutOfEmail: true });
    expect(toContactFields({ Lead_Grade__c: 'A1' }, mapping)).toEqual({});
  });
});
