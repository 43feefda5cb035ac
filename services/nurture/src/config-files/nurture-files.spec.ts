import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recommendTrack } from '../domain/recommend.js';
import { planSteps } from '../domain/schedule.js';
import { renderEmail } from '../domain/templates.js';
import { checkTrackTemplates, defaultTemplatesDir, defaultTracksDir, loadNurtureFiles, loadTemplates, loadTracks } from './nurture-files.js';

describe('the nurture files in the repo', () => {
  const { tracks, templates } = loadNurtureFiles();
  const byId = (id: string) => tracks.find((t) => t.id === id)!;

  it('resolves the folders beside src/ and dist/', () => {
    expect(defaultTracksDir()).toMatch(/services\/nurture\/tracks\/$/);
    expect(defaultTemplatesDir()).toMatch(/services\/nurture\/templates\/$/);
  });

  it('holds the confirmation, general, cross-sell and sales-assist tracks, sorted by id', () => {
    expect(tracks.map((t) => [t.id, t.kind])).toEqual([
      ['contact-sales-confirmation', 'TRANSACTIONAL'],
      ['cross-sell-analytics', 'MARKETING'],
      ['marketing-nurture-general', 'MARKETING'],
      ['sales-assist-owner-intro', 'SALES_ASSIST'],
    ]);
  });

  it('sends the Contact Sales confirmation at once, in one step', () => {
    const at = new Date('2026-05-01T09:00:00Z');
    expect(planSteps(byId('contact-sales-confirmation'), at)).toEqual([
      { stepId: 'confirmation', template: 'contact-sales-confirmation', subject: expect.any(String), dueAt: at },
    ]);
  });

  it('runs the general nurture on day 0, 3 and 7', () => {
    const at = new Date('2026-05-01T09:00:00Z');
    expect(planSteps(byId('marketing-nurture-general'), at).map((s) => s.dueAt.toISOString())).toEqual([
      '2026-05-01T09:00:00.000Z',
      '2026-05-04T09:00:00.000Z',
      '2026-05-08T09:00:00.000Z',
    ]);
  });

  it('recommends from the real tracks: cross-sell by interest, general otherwise, sales assist once routed', () => {
    expect(recommendTrack({ email: 'a@example.com', product: 'Analytics', routedToSales: false }, tracks)?.track.id).toBe('cross-sell-analytics');
    expect(recommendTrack({ email: 'a@example.com', product: 'automation', routedToSales: false }, tracks)?.track.id).toBe('marketing-nurture-general');
    expect(recommendTrack({ email: 'a@example.com', product: 'analytics', routedToSales: true }, tracks)?.track.id).toBe('sales-assist-owner-intro');
  });

  it('renders every step of every track with hostile data, with the unsubscribe link in both parts', () => {
    const unsubscribeUrl = 'https://nurture.example.com/unsubscribe/tok.en';
    for (const track of tracks) {
      for (const step of track.steps) {
        const template = templates.get(step.template)!;
        const email = renderEmail({ ...template, subject: step.subject }, {
          firstName: '<script>x</script>', company: 'A & B', product: 'analytics', ownerName: 'Grace', unsubscribeUrl,
        });
        expect(email.html).not.toContain('<script>');
        expect(email.html).toContain(unsubscribeUrl);
        expect(email.text).toContain(unsubscribeUrl);
        expect(email.subject).not.toMatch(/[\r\n]/);
        expect(email.headers['List-Unsubscribe']).toBe(`<${unsubscribeUrl}>`);
      }
    }
  });
});

describe('loading from disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nurture-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const track = (id: string, template = 'welcome', kind = 'MARKETING') => `
id: ${id}
version: 2
name: ${id}
kind: ${kind}
exit: { onUnsubscribe: true, onBounce: true }
priority: 0
steps:
  - { id: first, delay: { days: 0 }, template: ${template}, subject: "Hi {{firstName}}" }
`;

  it('reads .yaml and .yml files only', () => {
    writeFileSync(join(dir, 'b.yaml'), track('b-track'));
    writeFileSync(join(dir, 'a.yml'), track('a-track'));
    writeFileSync(join(dir, 'README.md'), '# not a track');
    expect(loadTracks(dir).map((t) => `${t.id}@${t.version}`)).toEqual(['a-track@2', 'b-track@2']);
  });

  it('names the file and the field of a bad track', () => {
    writeFileSync(join(dir, 'bad.yaml'), track('bad').replace('priority: 0', 'priority: high'));
    expect(() => loadTracks(dir)).toThrow(new RegExp(`${join(dir, 'bad.yaml')}: priority: must be an integer`));
  });

  it('names the file of broken YAML', () => {
    writeFileSync(join(dir, 'broken.yaml'), 'id: [unclosed');
    expect(() => loadTracks(dir)).toThrow(/broken\.yaml: /);
  });

  it('refuses two files with the same track id', () => {
    writeFileSync(join(dir, 'one.yaml'), track('same'));
    writeFileSync(join(dir, 'two.yaml'), track('same'));
    expect(() => loadTracks(dir)).toThrow(/two\.yaml: id: track "same" is already defined in .*one\.yaml/);
  });

  it('reads templates by file name and names the file and part of a bad one', () => {
    writeFileSync(join(dir, 'welcome.yaml'), 'subject: Hi\nhtml: "<p>{{unsubscribeUrl}}</p>"\ntext: "{{unsubscribeUrl}}"\n');
    expect(loadTemplates(dir).get('welcome')).toEqual({ subject: 'Hi', html: '<p>{{unsubscribeUrl}}</p>', text: '{{unsubscribeUrl}}' });
    writeFileSync(join(dir, 'missing.yaml'), 'subject: Hi\nhtml: "<p></p>"\n');
    expect(() => loadTemplates(dir)).toThrow(/missing\.yaml: text: must be a non-empty string/);
    writeFileSync(join(dir, 'missing.yaml'), 'subject: Hi\nhtml: "{{#if x}}"\ntext: t\n');
    expect(() => loadTemplates(dir)).toThrow(/missing\.yaml: html: /);
    writeFileSync(join(dir, 'missing.yaml'), 'subject: Hi\nhtml: h\ntext: t\nfooter: f\n');
    expect(() => loadTemplates(dir)).toThrow(/missing\.yaml: footer: unknown field/);
  });

  it('lists every step whose template is missing or lacks a visible unsubscribe link', () => {
    // c-track is transactional, so its template may go without the link.
    const tracks = loadTracksFrom(join(dir, 'tracks'), {
      'a.yaml': track('a-track', 'nowhere'),
      'b.yaml': track('b-track', 'no-link'),
      'c.yaml': track('c-track', 'no-link', 'TRANSACTIONAL'),
    });
    const templates = new Map([['no-link', { subject: 'S', html: '<p>hi</p>', text: 'hi {{unsubscribeUrl}}' }]]);
    let message = '';
    try {
      checkTrackTemplates(tracks, templates);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'Nurture files are inconsistent:',
      'track a-track steps[0].template: no template named "nowhere"',
      'track b-track steps[0].template: template no-link has no {{unsubscribeUrl}} link in its html part',
    ]);
  });

  it('checks the Handlebars syntax of step subjects against the templates', () => {
    const tracks = loadTracksFrom(join(dir, 'tracks'), { 'a.yaml': track('a-track').replace('"Hi {{firstName}}"', '"Hi {{#if firstName}}"') });
    const templates = new Map([['welcome', { subject: 'S', html: '{{unsubscribeUrl}}', text: '{{unsubscribeUrl}}' }]]);
    expect(() => checkTrackTemplates(tracks, templates)).toThrow(/track a-track steps\[0\]\.subject: /);
  });
});

function loadTracksFrom(dir: string, files: Record<string, string>) {
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return loadTracks(dir);
}
