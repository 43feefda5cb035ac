import { parseOutOfOffice, parseOwner, type OutOfOffice, type Owner, type Team } from './owners.js';
import { RoutingConfigError, readBoolean, readString } from './validate.js';

/**
 * Validates an owner sent by owner management exactly as the seed file's owners are validated, plus
 * what only the directory can tell: the team must exist. Errors name the field, e.g. `owner.timeZone`.
 */
export function validateOwnerChange(raw: unknown, teams: readonly Team[]): Owner {
  const owner = parseOwner(raw, 'owner');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(owner.id)) {
    throw new RoutingConfigError('owner.id', `"${owner.id}" must be lower-case letters, digits and dashes`);
  }
  if (!teams.some((t) => t.id === owner.teamId)) {
    throw new RoutingConfigError('owner.teamId', `team "${owner.teamId}" does not exist (teams: ${teams.map((t) => t.id).join(', ')})`);
  }
  return owner;
}

export interface AvailabilityChange {
  ownerId: string;
  active: boolean;
  /** Replaces the owner's windows: the caller sends the whole calendar, so a cancelled leave disappears. */
  outOfOffice: OutOfOffice[];
}

export function validateAvailabilityChange(raw: { ownerId: unknown; active: unknown; outOfOffice: unknown }): AvailabilityChange {
  return {
    ownerId: readString(raw.ownerId, 'ownerId'),
    active: readBoolean(raw.active, 'active'),
    outOfOffice: parseOutOfOffice(raw.outOfOffice, 'outOfOffice'),
  };
}

/**
 * Owners as the directory holds them after a seed file is applied. A file whose version the store
 * already applied only adds owners that are missing, so changes made over gRPC since then survive a
 * restart; a new file version is a deliberate change in Git and replaces the owners it lists.
 */
export function ownersToSeed(fileOwners: readonly Owner[], storedIds: ReadonlySet<string>, fileVersionIsNew: boolean): Owner[] {
  return fileVersionIsNew ? [...fileOwners] : fileOwners.filter((o) => !storedIds.has(o.id));
}
