import { loadNurtureSettings } from './nurture.settings.js';

const secret = { UNSUBSCRIBE_SECRET: 'a-secret-of-enough-bytes' };

describe('loadNurtureSettings', () => {
  it('has production defaults', () => {
    expect(loadNurtureSettings(secret)).toMatchObject({
      smtpUrl: 'smtp://127.0.0.1:1025',
      from: 'leadmesh <hello@leadmesh.example>',
      fromDomain: 'leadmesh.example',
      publicUrl: 'http://127.0.0.1:8084',
      delayScale: 1,
    });
  });

  it('reads the test knobs and trims the public URL', () => {
    const s = loadNurtureSettings({ ...secret, NURTURE_DELAY_SCALE: '0.0001', NURTURE_SCHEDULER_INTERVAL_MS: '250', NURTURE_PUBLIC_URL: 'https://mail.example.com/' });
    expect(s).toMatchObject({ delayScale: 0.0001, schedulerIntervalMs: 250, publicUrl: 'https://mail.example.com' });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadNurtureSettings({})).toThrow(/UNSUBSCRIBE_SECRET/);
    expect(() => loadNurtureSettings({ ...secret, NURTURE_DELAY_SCALE: '0' })).toThrow(/NURTURE_DELAY_SCALE/);
    expect(() => loadNurtureSettings({ ...secret, NURTURE_SCHEDULER_INTERVAL_MS: '1.5' })).toThrow(/NURTURE_SCHEDULER_INTERVAL_MS/);
    expect(() => loadNurtureSettings({ ...secret, NURTURE_FROM: 'nobody' })).toThrow(/NURTURE_FROM/);
    expect(() => loadNurtureSettings({ ...secret, NURTURE_PUBLIC_URL: 'ftp://x' })).toThrow(/NURTURE_PUBLIC_URL/);
  });
});
