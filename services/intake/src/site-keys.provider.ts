import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { checkSiteOrigin, parseSiteKeys, type OriginCheck, type SiteKeys } from './domain/site-keys.js';

/**
 * The websites allowed to use the browser tracker: TRACKER_SITE_KEYS (or the file
 * TRACKER_SITE_KEYS_FILE), a JSON object from public site key to its allowed origins. Read once at
 * start; a bad entry stops the service with its name rather than open a door to the wrong origin.
 */
@Injectable()
export class SiteKeyRegistry {
  private readonly keys: SiteKeys;

  constructor() {
    const file = process.env.TRACKER_SITE_KEYS_FILE;
    this.keys = parseSiteKeys(file ? readFileSync(file, 'utf8') : process.env.TRACKER_SITE_KEYS);
  }

  check(siteKey: string | undefined, origin: string | undefined): OriginCheck {
    return checkSiteOrigin(this.keys, siteKey, origin);
  }
}
