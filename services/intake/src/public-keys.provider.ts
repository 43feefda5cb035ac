import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { checkFormKey, parseFormKeys, type FormKeyCheck, type FormKeys } from './domain/form-keys.js';
import { checkSiteOrigin, parseSiteKeys, type OriginCheck, type SiteKeys } from './domain/site-keys.js';

/**
 * The public keys of intake's browser doors, each bound to the origins allowed to use it: the
 * tracker's site keys, TRACKER_SITE_KEYS (or the file TRACKER_SITE_KEYS_FILE), and the web forms'
 * form keys, each also bound to one form, WEB_FORM_KEYS (or WEB_FORM_KEYS_FILE). Read once at start;
 * a bad entry stops the service with its name rather than open a door to the wrong origin. A key is
 * one or the other, never both: a site key must not submit leads.
 */
@Injectable()
export class PublicKeyRegistry {
  private readonly sites: SiteKeys;
  private readonly forms: FormKeys;

  constructor() {
    this.sites = parseSiteKeys(setting('TRACKER_SITE_KEYS'));
    this.forms = parseFormKeys(setting('WEB_FORM_KEYS'));
    for (const key of this.forms.keys()) {
      if (this.sites.has(key)) throw new Error(`WEB_FORM_KEYS: key "${key}" is a site key in TRACKER_SITE_KEYS too; give the form its own key`);
    }
  }

  site(siteKey: string | undefined, origin: string | undefined): OriginCheck {
    return checkSiteOrigin(this.sites, siteKey, origin);
  }

  form(formKey: string | undefined, origin: string | undefined, formId: string): FormKeyCheck {
    return checkFormKey(this.forms, formKey, origin, formId);
  }
}

function setting(name: string): string | undefined {
  const file = process.env[`${name}_FILE`];
  return file ? readFileSync(file, 'utf8') : process.env[name];
}
