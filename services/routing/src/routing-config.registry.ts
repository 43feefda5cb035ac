import { Injectable } from '@nestjs/common';
import { loadRoutingConfig } from './config-files/routing-config-files.js';

/** Routing rules and accounts from the versioned files in config/; the owners and teams there seed the store (OwnerDirectory). */
@Injectable()
export class RoutingConfigRegistry {
  readonly config = loadRoutingConfig(process.env.ROUTING_CONFIG_DIR || undefined);
}
