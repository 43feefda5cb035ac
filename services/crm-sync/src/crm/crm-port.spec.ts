import { safeErrorText } from '@leadmesh/platform';
import { CrmConflictError, CrmUnavailableError, CrmValidationError } from './crm-port.js';

describe('CrmError.safeMessage: what may leave crm-sync', () => {
  it("names the CRM, the kind, the code, the status and the fields, never the CRM's text", () => {
    // Salesforce's validation messages quote the value they refused.
    const err = new CrmValidationError('salesforce', 'Salesforce refused lead l-1: Email: invalid email address: ada.lovelace@example.org', {
      code: 'INVALID_EMAIL_ADDRESS',
      status: 400,
      fields: ['Email'],
    });
    expect(err.safeMessage).toBe('salesforce CrmValidationError: INVALID_EMAIL_ADDRESS HTTP 400 on Email');
    expect(safeErrorText(err)).not.toContain('ada.lovelace@example.org');
    expect(safeErrorText(new CrmConflictError('hubspot', 'Contact already exists. Existing ID: 5 for ada@example.org', ['5'], { code: 'CONFLICT', status: 409 }))).toBe(
      'hubspot CrmConflictError: CONFLICT HTTP 409',
    );
    expect(safeErrorText(new CrmUnavailableError('salesforce', 'Salesforce answered 503: <html>ada@example.org</html>', { status: 503 }))).toBe('salesforce CrmUnavailableError: no code HTTP 503');
  });

  it("keeps our own errors' words", () => {
    expect(safeErrorText(new Error('payload is not a valid leadmesh.events.v1.LeadRouted'))).toBe('payload is not a valid leadmesh.events.v1.LeadRouted');
  });
});
