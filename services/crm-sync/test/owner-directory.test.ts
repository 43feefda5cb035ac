// The HubSpot owner directory from configuration, for mapping version 1 (version 2 takes the owner's
// HubSpot id from the assignment the events carry and needs no directory).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFieldMapping } from '../src/crm/mapping-files.js';
import { FieldMappingError, mapToCrm, type CrmLeadSnapshot } from '../src/domain/field-mapping.js';
import { assertOwnerLookupPresent, ownerLookupFromEnv } from '../src/owner-directory.js';

const EXAMPLE = fileURLToPath(new URL('../mappings/hubspot-owners.example.yaml', import.meta.url));

const lead: CrmLeadSnapshot = {
  leadId: '7d0e4d0c-55a4-4b53-9d0f-8c1e0a6b1f10',
  contact: { email: 'ada@example.com', lastName: 'Lovelace' },
  source: {},
  consent: { emailMarketing: true },
  assignment: { ownerId: 'avery-chen', ownerName: 'Avery Chen', teamId: 'enterprise-na' },
  receivedAt: new Date('2026-01-05T10:00:00Z'),
};

describe('HubSpot owner directory', () => {
  it('maps routing owners to hubspot_owner_id from the example file', async () => {
    const mapping = await loadFieldMapping('hubspot', undefined, 1);
    const lookup = await ownerLookupFromEnv({ HUBSPOT_OWNER_MAP_FILE: EXAMPLE });
    expect(() => assertOwnerLookupPresent(mapping, lookup)).not.toThrow();
    expect(mapToCrm(lead, mapping, lookup).hubspot_owner_id).toBe('81234567');
  });

  it('takes owners from one variable, and names an owner it does not know', async () => {
    const mapping = await loadFieldMapping('hubspot', undefined, 1);
    const lookup = await ownerLookupFromEnv({ HUBSPOT_OWNER_MAP: 'marcus-reed=555' });
    expect(() => mapToCrm(lead, mapping, lookup)).toThrow(FieldMappingError);
    expect(() => mapToCrm(lead, mapping, lookup)).toThrow(/assignment.ownerId -> hubspot_owner_id: owner "avery-chen" has no CRM user/);
  });

  it('prefers the file to the variable, and refuses a file it cannot read or parse', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'owners-'));
    const file = join(dir, 'owners.yaml');
    await writeFile(file, 'owners:\n  avery-chen: 42\n');
    const lookup = await ownerLookupFromEnv({ HUBSPOT_OWNER_MAP_FILE: file, HUBSPOT_OWNER_MAP: 'avery-chen=1' });
    expect(lookup?.('avery-chen')).toBe('42');
    await expect(ownerLookupFromEnv({ HUBSPOT_OWNER_MAP_FILE: join(dir, 'missing.yaml') })).rejects.toThrow(/HUBSPOT_OWNER_MAP_FILE .*missing.yaml: cannot be read/);
    await writeFile(file, 'owner: {}\n');
    await expect(ownerLookupFromEnv({ HUBSPOT_OWNER_MAP_FILE: file })).rejects.toThrow(/must hold an "owners" mapping/);
  });

  it('stops the service at start when the mapping needs owners and none are configured', async () => {
    const mapping = await loadFieldMapping('hubspot', undefined, 1);
    expect(await ownerLookupFromEnv({})).toBeUndefined();
    expect(() => assertOwnerLookupPresent(mapping, undefined)).toThrow(/hubspot_owner_id .*HUBSPOT_OWNER_MAP_FILE or HUBSPOT_OWNER_MAP/);
    await expect(loadFieldMapping('salesforce').then((m) => assertOwnerLookupPresent(m, undefined))).resolves.toBeUndefined();
    await expect(loadFieldMapping('hubspot').then((m) => assertOwnerLookupPresent(m, undefined))).resolves.toBeUndefined();
  });
});
