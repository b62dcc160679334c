import type { Command } from '../command.js';
import { galleryAcceptRestoreCommand, galleryExportCommand, galleryImportCommand, galleryVerifyCommand } from './gallery.js';
import { identifyCommand } from './identify.js';
import { keysInitCommand, keysRotateCommand } from './keys.js';
import { personAddCommand } from './person-add.js';
import { personImportRosterCommand } from './person-roster.js';
import { personListCommand, personRemoveCommand, personRenameCommand, personShowCommand } from './person.js';
import { personDropPhotoCommand, personPhotosCommand, personTeachCommand } from './person-photos.js';

/** The gallery's commands: keys, persons, identify, verify, export/import. */
export const GALLERY_COMMANDS: readonly Command[] = [
  keysInitCommand,
  keysRotateCommand,
  personAddCommand,
  personImportRosterCommand,
  personListCommand,
  personShowCommand,
  personPhotosCommand,
  personDropPhotoCommand,
  personTeachCommand,
  personRenameCommand,
  personRemoveCommand,
  identifyCommand,
  galleryVerifyCommand,
  galleryExportCommand,
  galleryImportCommand,
  galleryAcceptRestoreCommand,
];
