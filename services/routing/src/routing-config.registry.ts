import { Injectable } from '@nestjs/common';
import { loadRoutingConfig } from './config-files/routing-config-files.js';

/** Owners, teams, accounts and routing rules, seeded from the versioned files in config/. */
@Injectable()
export class RoutingConfigRegistry {
  readonly config = loadRoutingConfig(process.env.ROUTING_CONFIG_DIR || undefined);
}
