import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CampaignMappingError, parseCampaignMapping, type CampaignMapping } from '../domain/campaigns.js';
import { FieldMappingConfigError, parseFieldMapping, type CrmName, type FieldMapping } from '../domain/field-mapping.js';

// src/crm and dist/crm are both two levels below the package, so this resolves the same from either.
export const DEFAULT_MAPPINGS_DIR = fileURLToPath(new URL('../../mappings/', import.meta.url));

const FILE_NAME = /^(salesforce|hubspot)\.v(\d+)\.yaml$/;

/** Lists the mapping versions shipped for a CRM, oldest first. */
export async function listFieldMappingVersions(crm: CrmName, dir: string = DEFAULT_MAPPINGS_DIR): Promise<number[]> {
  const names = await readdir(dir);
  return names
    .map((name) => FILE_NAME.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === crm)
    .map((m) => Number(m[2]))
    .sort((a, b) => a - b);
}

/**
 * Loads `<crm>.v<version>.yaml` (the newest version when none is named) and validates it. The file's
 * own `crm` and `version` must agree with its name, so a copied file cannot masquerade as another.
 */
export async function loadFieldMapping(
  crm: CrmName,
  dir: string = DEFAULT_MAPPINGS_DIR,
  version?: number,
): Promise<FieldMapping> {
  const chosen = version ?? (await listFieldMappingVersions(crm, dir)).at(-1);
  if (chosen === undefined) throw new Error(`no ${crm} field mapping in ${dir}`);
  const file = `${dir.replace(/\/?$/, '/')}${crm}.v${chosen}.yaml`;
  let mapping: FieldMapping;
  try {
    mapping = parseFieldMapping(parse(await readFile(file, 'utf8')));
  } catch (err) {
    if (err instanceof FieldMappingConfigError) throw new FieldMappingConfigError(`${file}: ${err.path}`, err.message.slice(err.path.length + 2));
    throw err;
  }
  if (mapping.crm !== crm) throw new FieldMappingConfigError(`${file}: crm`, `says "${mapping.crm}", expected "${crm}"`);
  if (mapping.version !== chosen) throw new FieldMappingConfigError(`${file}: version`, `says ${mapping.version}, the file name says ${chosen}`);
  return mapping;
}

const CAMPAIGN_FILE = /^campaigns\.v(\d+)\.yaml$/;

/** Loads the newest `campaigns.v<version>.yaml` (or the one named); its own version must agree with its name. */
export async function loadCampaignMapping(dir: string = DEFAULT_MAPPINGS_DIR, version?: number): Promise<CampaignMapping> {
  const versions = (await readdir(dir)).map((n) => CAMPAIGN_FILE.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
  const chosen = version ?? versions.at(-1);
  if (chosen === undefined) throw new Error(`no campaign mapping (campaigns.v<N>.yaml) in ${dir}`);
  const file = `${dir.replace(/\/?$/, '/')}campaigns.v${chosen}.yaml`;
  let mapping: CampaignMapping;
  try {
    mapping = parseCampaignMapping(parse(await readFile(file, 'utf8')));
  } catch (err) {
    if (err instanceof CampaignMappingError) throw new CampaignMappingError(`${file}: ${err.path}`, err.message.slice(err.path.length + 2));
    throw err;
  }
  if (mapping.version !== chosen) throw new CampaignMappingError(`${file}: version`, `says ${mapping.version}, the file name says ${chosen}`);
  return mapping;
}
