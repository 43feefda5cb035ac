import { CampaignMappingError, chooseCampaign, parseCampaignMapping } from './campaigns.js';

const mapping = parseCampaignMapping({ version: 1, memberStatus: 'Responded', campaigns: { Spring: { salesforce: '701Dn00000SPRNGAAA', hubspot: 3101 }, 'sf-only': { salesforce: '701Dn00000SFONL' } } });

describe('chooseCampaign', () => {
  it("takes the form's campaign id over utm_campaign", () => {
    expect(chooseCampaign({ campaignId: '701Dn00000FORMXAAA', utmCampaign: 'spring' }, mapping, 'salesforce')).toEqual({ campaignId: '701Dn00000FORMXAAA', source: 'form' });
  });
  it('maps utm_campaign whatever its case, per CRM', () => {
    expect(chooseCampaign({ utmCampaign: ' SPRING ' }, mapping, 'salesforce')).toEqual({ campaignId: '701Dn00000SPRNGAAA', source: 'utm_campaign:spring' });
    expect(chooseCampaign({ utmCampaign: 'spring' }, mapping, 'hubspot')).toEqual({ campaignId: '3101', source: 'utm_campaign:spring' });
  });
  it('reports an unknown campaign instead of holding the lead, and says nothing without one', () => {
    expect(chooseCampaign({ utmCampaign: 'winter' }, mapping, 'salesforce')).toEqual({ issue: expect.objectContaining({ code: 'CAMPAIGN_UNKNOWN', message: expect.stringContaining('"winter"') }) });
    expect(chooseCampaign({ utmCampaign: 'sf-only' }, mapping, 'hubspot')).toEqual({ issue: expect.objectContaining({ code: 'CAMPAIGN_UNKNOWN' }) });
    expect(chooseCampaign({ campaignId: '3101' }, mapping, 'salesforce')).toEqual({ issue: expect.objectContaining({ code: 'CAMPAIGN_UNKNOWN', message: expect.stringContaining('not a Salesforce Campaign Id') }) });
    expect(chooseCampaign({}, mapping, 'salesforce')).toBeUndefined();
  });
});

describe('parseCampaignMapping', () => {
  it('names the entry that is wrong', () => {
    expect(() => parseCampaignMapping({ version: 1, memberStatus: 'Responded', campaigns: { spring: { salesforce: '00Q000' } } })).toThrow('campaigns.spring.salesforce: "00Q000" is not a Salesforce Campaign Id');
    expect(() => parseCampaignMapping({ version: 1, memberStatus: 'Responded', campaigns: { spring: { zoho: '1' } } })).toThrow(CampaignMappingError);
    expect(() => parseCampaignMapping({ version: 1, campaigns: {} })).toThrow('memberStatus');
    expect(() => parseCampaignMapping({ version: 1, memberStatus: 'Responded', campaigns: { Spring: {}, spring: {} } })).toThrow('distinct');
  });
});
