import { hubspotSignatureV3, verifyHubspotSignatureV3 } from './hubspot-signature.js';

const SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const BODY = '[{"eventId":1,"subscriptionType":"contact.propertyChange","objectId":123,"propertyName":"hubspot_owner_id","propertyValue":"81234568"}]';
const TIMESTAMP = '1764237600000';
// Computed outside this code: printf 'POST<uri><body><timestamp>' | openssl dgst -sha256 -hmac <secret> -binary | base64
const SIGNATURE = 'vNVRif61ekpr9EcLtXUNnfnuUI8ozEWhSi8jsVLlnd8=';
const URI = 'https://crm-sync.example.com/v1/hubspot/webhooks?app=leadmesh';
const at = (ms: number) => new Date(Number(TIMESTAMP) + ms);

describe('HubSpot v3 signature', () => {
  it('is the base64 HMAC-SHA256 of method, URI, body and timestamp', () => {
    expect(hubspotSignatureV3(SECRET, 'POST', URI, BODY, TIMESTAMP)).toBe(SIGNATURE);
  });

  it('decodes the escapes HubSpot decodes in the URI before signing', () => {
    expect(hubspotSignatureV3(SECRET, 'POST', 'https%3A%2F%2Fcrm-sync.example.com%2Fv1%2Fhubspot%2Fwebhooks%3Fapp=leadmesh', BODY, TIMESTAMP)).toBe(SIGNATURE);
  });

  it('accepts a request signed with the secret within five minutes', () => {
    expect(verifyHubspotSignatureV3(SECRET, { method: 'POST', uri: URI, body: BODY, signature: SIGNATURE, timestamp: TIMESTAMP }, at(299_000))).toEqual({ ok: true });
  });

  it('refuses an older request (a replay), a changed body or URI, another secret, and a request without the headers', () => {
    const request = { method: 'POST', uri: URI, body: BODY, signature: SIGNATURE, timestamp: TIMESTAMP };
    expect(verifyHubspotSignatureV3(SECRET, request, at(301_000))).toEqual({ ok: false, reason: 'stale' });
    expect(verifyHubspotSignatureV3(SECRET, request, at(-301_000))).toEqual({ ok: false, reason: 'stale' });
    expect(verifyHubspotSignatureV3(SECRET, { ...request, body: BODY.replace('81234568', '81234569') }, at(1000))).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyHubspotSignatureV3(SECRET, { ...request, uri: URI.replace('leadmesh', 'other') }, at(1000))).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyHubspotSignatureV3('another-secret', request, at(1000))).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyHubspotSignatureV3(SECRET, { ...request, signature: undefined }, at(1000))).toEqual({ ok: false, reason: 'missing' });
    expect(verifyHubspotSignatureV3(SECRET, { ...request, timestamp: 'yesterday' }, at(1000))).toEqual({ ok: false, reason: 'missing' });
  });
});
