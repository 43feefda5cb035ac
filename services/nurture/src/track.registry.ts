import { Injectable } from '@nestjs/common';
import { loadNurtureFiles } from './config-files/nurture-files.js';

/** Tracks and email templates, loaded and cross-checked from the versioned files at start. */
@Injectable()
export class TrackRegistry {
  readonly files = loadNurtureFiles(process.env.NURTURE_TRACKS_DIR || undefined, process.env.NURTURE_TEMPLATES_DIR || undefined);
}
