// Reads the versioned nurture data that lives in Git beside the service: tracks/*.yaml and
// templates/*.yaml. Both src/ and dist/ sit directly under services/nurture, so the same relative
// URL finds the folders whether the service runs from TypeScript or from the build.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseTrack, type Track } from '../domain/tracks.js';
import { checkTemplateSyntax, type EmailTemplate } from '../domain/templates.js';

export function defaultTracksDir(): string {
  return fileURLToPath(new URL('../../tracks/', import.meta.url));
}

export function defaultTemplatesDir(): string {
  return fileURLToPath(new URL('../../templates/', import.meta.url));
}

const YAML_FILE = /\.ya?ml$/;

function readYamlFiles(dir: string): Array<{ file: string; name: string; data: unknown }> {
  return readdirSync(dir)
    .filter((f) => YAML_FILE.test(f))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      try {
        return { file, name: f.replace(YAML_FILE, ''), data: parse(readFileSync(file, 'utf8')) as unknown };
      } catch (error) {
        throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
      }
    });
}

/** Every track in the folder, one per file, sorted by id. Throws naming the file and the field. */
export function loadTracks(dir = defaultTracksDir()): Track[] {
  const byId = new Map<string, { track: Track; file: string }>();
  for (const { file, data } of readYamlFiles(dir)) {
    let track: Track;
    try {
      track = parseTrack(data);
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
    }
    // One file per track id: Git keeps the old versions, and enrollments keep the steps they were
    // planned with, so two live versions of one track would only make the choice ambiguous.
    const clash = byId.get(track.id);
    if (clash) throw new Error(`${file}: id: track ${JSON.stringify(track.id)} is already defined in ${clash.file}`);
    byId.set(track.id, { track, file });
  }
  return [...byId.values()].map((t) => t.track).sort((a, b) => a.id.localeCompare(b.id));
}

function parseTemplate(data: unknown, file: string): EmailTemplate {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${file}: must be a mapping with subject, html and text`);
  const o = data as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['subject', 'html', 'text'].includes(key)) throw new Error(`${file}: ${key}: unknown field (allowed: subject, html, text)`);
  }
  for (const key of ['subject', 'html', 'text'] as const) {
    if (typeof o[key] !== 'string' || o[key].trim() === '') throw new Error(`${file}: ${key}: must be a non-empty string`);
  }
  const template = { subject: o.subject as string, html: o.html as string, text: o.text as string };
  try {
    checkTemplateSyntax(template);
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
  }
  return template;
}

/** Templates by name (the file name without .yaml), each checked for Handlebars syntax. */
export function loadTemplates(dir = defaultTemplatesDir()): Map<string, EmailTemplate> {
  return new Map(readYamlFiles(dir).map(({ file, name, data }) => [name, parseTemplate(data, file)]));
}

const UNSUBSCRIBE_LINK = /\{\{\{?\s*unsubscribeUrl\s*\}?\}\}/;

/**
 * Every step's template must exist, and every template a MARKETING or SALES_ASSIST step sends must
 * show the unsubscribe link in both parts: the header alone is not visible to every reader.
 * Lists all problems at once so one fix-up pass is enough.
 */
export function checkTrackTemplates(tracks: Track[], templates: Map<string, EmailTemplate>): void {
  const problems: string[] = [];
  for (const track of tracks) {
    track.steps.forEach((step, i) => {
      const where = `track ${track.id} steps[${i}].template`;
      const template = templates.get(step.template);
      if (!template) return void problems.push(`${where}: no template named ${JSON.stringify(step.template)}`);
      try {
        checkTemplateSyntax({ ...template, subject: step.subject });
      } catch (error) {
        problems.push(`track ${track.id} steps[${i}].${(error as Error).message}`);
      }
      if (track.kind === 'TRANSACTIONAL') return;
      for (const part of ['html', 'text'] as const) {
        if (!UNSUBSCRIBE_LINK.test(template[part])) problems.push(`${where}: template ${step.template} has no {{unsubscribeUrl}} link in its ${part} part`);
      }
    });
  }
  if (problems.length > 0) throw new Error(`Nurture files are inconsistent:\n${problems.join('\n')}`);
}

/** Tracks and templates from their default folders (or the given ones), checked against each other. */
export function loadNurtureFiles(tracksDir = defaultTracksDir(), templatesDir = defaultTemplatesDir()): { tracks: Track[]; templates: Map<string, EmailTemplate> } {
  const tracks = loadTracks(tracksDir);
  const templates = loadTemplates(templatesDir);
  checkTrackTemplates(tracks, templates);
  return { tracks, templates };
}
