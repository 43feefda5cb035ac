import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { FieldMapping, OwnerLookup } from './domain/field-mapping.js';
import { OwnerDirectoryError, ownerLookupFrom, parseOwnerDirectory, parseOwnerPairs } from './domain/sync-rules.js';

type Env = Record<string, string | undefined>;

/**
 * The CRM owner of each routing owner, for mappings that send an owner to the CRM (HubSpot's
 * hubspot_owner_id). From HUBSPOT_OWNER_MAP_FILE (YAML or JSON: `owners: { avery-chen: 81234567 }`)
 * or HUBSPOT_OWNER_MAP (`avery-chen=81234567,marcus-reed=81234568`); the file wins when both are set.
 * Undefined when neither is set.
 */
export async function ownerLookupFromEnv(env: Env): Promise<OwnerLookup | undefined> {
  const file = env.HUBSPOT_OWNER_MAP_FILE?.trim();
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new OwnerDirectoryError(`HUBSPOT_OWNER_MAP_FILE ${file}`, `cannot be read: ${(err as Error).message}`);
    }
    return ownerLookupFrom(parseOwnerDirectory(parse(text), `HUBSPOT_OWNER_MAP_FILE ${file}`));
  }
  const inline = env.HUBSPOT_OWNER_MAP?.trim();
  return inline ? ownerLookupFrom(parseOwnerPairs(inline, 'HUBSPOT_OWNER_MAP')) : undefined;
}

/** A mapping that sends owners needs the directory: say so at start, not on every lead. */
export function assertOwnerLookupPresent(mapping: FieldMapping, lookup: OwnerLookup | undefined): void {
  const entry = mapping.fields.find((f) => f.transform === 'ownerLookup' && f.direction !== 'FROM_CRM');
  if (entry && !lookup) {
    throw new OwnerDirectoryError(
      `${mapping.crm} mapping v${mapping.version}`,
      `field ${entry.to} maps owners through ownerLookup; set HUBSPOT_OWNER_MAP_FILE or HUBSPOT_OWNER_MAP (routing owner id -> CRM owner id)`,
    );
  }
}
