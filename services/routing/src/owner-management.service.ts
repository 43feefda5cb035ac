import { Inject, Injectable } from '@nestjs/common';
import type { routing } from '@leadmesh/contracts';
import { InvalidArgumentError, NotFoundError } from '@leadmesh/platform';
import { RoutingConfigError, validateAvailabilityChange, validateOwnerChange, type Owner, type OwnerLoad } from './domain/index.js';
import { OwnerLoadStore } from './owner-load.store.js';
import { utcDay } from './route-decider.js';
import { OwnerDirectory } from './owner-directory.js';
import { OwnerDirectoryStore } from './owner-directory.store.js';
import { outOfOfficeFromProto, ownerFromProto, protoFieldPath } from './routing.mapping.js';

/** Owner management: changes to the directory that every routing decision reads. */
@Injectable()
export class OwnerManagementService {
  constructor(
    @Inject(OwnerDirectoryStore) private readonly store: OwnerDirectoryStore,
    @Inject(OwnerDirectory) private readonly directory: OwnerDirectory,
    @Inject(OwnerLoadStore) private readonly load: OwnerLoadStore,
  ) {}

  /** The owners with what each has had so far (fresh counts: a person reads them, no decision waits). */
  async listOwners(teamId: string): Promise<{ owners: Owner[]; loads: Map<string, OwnerLoad> }> {
    await this.directory.whenSeeded();
    const owners = await this.store.listOwners(teamId || undefined);
    const loads = await this.load.loads(owners, utcDay(new Date()), true);
    return { owners, loads };
  }

  /** Creates or replaces an owner, validated like the seed file's owners; errors name the proto field. */
  async upsertOwner(request: routing.UpsertOwnerRequest): Promise<Owner> {
    await this.directory.whenSeeded();
    const teams = await this.store.listTeams();
    const owner = asInvalidArgument('UpsertOwnerRequest', () => validateOwnerChange(ownerFromProto(request.owner!), teams));
    await this.store.saveOwner(owner);
    this.directory.changed();
    return owner;
  }

  async setOwnerAvailability(request: routing.SetOwnerAvailabilityRequest): Promise<Owner> {
    await this.directory.whenSeeded();
    const change = asInvalidArgument('SetOwnerAvailabilityRequest', () =>
      validateAvailabilityChange({ ownerId: request.ownerId, active: request.active, outOfOffice: outOfOfficeFromProto(request.outOfOffice) }),
    );
    if (!(await this.store.setAvailability(change.ownerId, change.active, change.outOfOffice))) throw new NotFoundError(`owner ${change.ownerId}`);
    this.directory.changed();
    const owner = await this.store.findOwner(change.ownerId);
    if (!owner) throw new NotFoundError(`owner ${change.ownerId}`);
    return owner;
  }
}

function asInvalidArgument<T>(subject: string, validate: () => T): T {
  try {
    return validate();
  } catch (err) {
    if (!(err instanceof RoutingConfigError)) throw err;
    const problem = err.message.slice(err.path.length + 2);
    throw new InvalidArgumentError([{ field: protoFieldPath(err.path), description: problem }], subject);
  }
}
