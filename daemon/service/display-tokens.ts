import type { Database } from 'better-sqlite3';
import { FacegateError } from '../base/errors.js';
import { uuidv7Generator } from '../base/uuidv7.js';
import { SHOWN_PERSON, type ShownPerson } from '../display/config.js';
import { DisplayTokenStore, newDisplayToken, type DisplayToken } from '../display/token-store.js';
import type { GalleryStore } from '../gallery/store.js';
import { auditingFailure, type Actor, type AuditLog } from './audit.js';

/** Tokens a box keeps at most: a display per door and a few spares, far below what would slow a lookup. */
export const MAX_DISPLAY_TOKENS = 256;
/** A label says where the display hangs ("lobby tablet"): printable, short, no line breaks or escapes. */
const LABEL = /^[\p{L}\p{N} ._,:()/-]{0,64}$/u;
const TOKEN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface DisplayTokenServiceOptions {
  db: Database;
  audit: Pick<AuditLog, 'append'>;
  /** The doors and the cameras in no door of the config in force: a token names one of them. */
  targets: () => readonly string[];
  /** The gallery's photos, for the displays that show one: the face of a person's best enrolment photo. */
  photos?: Pick<GalleryStore, 'photos' | 'thumbnail'>;
  now?: () => number;
}

/** Largest photo a display is sent: enrolment thumbnails are 112 px JPEGs of a few kB. */
const MAX_PHOTO_BYTES = 64 * 1024;

/** Why a display's feed is refused: the token is none (or revoked), or it is another display's. */
export type DisplayRefusal = 'invalid' | 'other_target';

/**
 * Door display tokens: made and revoked by an admin (console or CLI), each change and its audit
 * entry in one transaction; and the one check of a display's token against the feed it asks for.
 * The token is shown once, when it is made, and never written anywhere: not in the audit log, not
 * in the state file (only its hash), not in a log line.
 */
export class DisplayTokenService {
  private readonly store: DisplayTokenStore;
  private readonly newId: () => string;
  private readonly now: () => number;

  constructor(private readonly o: DisplayTokenServiceOptions) {
    this.store = new DisplayTokenStore(o.db);
    this.now = o.now ?? Date.now;
    this.newId = uuidv7Generator(this.now);
  }

  add(target: string, show: ShownPerson, label: string, by: Actor): { token: string; record: DisplayToken } {
    return auditingFailure(this.o.audit, 'display.token.add', by, target.slice(0, 64), () => {
      if (!this.o.targets().includes(target)) {
        throw new FacegateError('FG_ERR_DISPLAY_TARGET', `no door or camera named ${JSON.stringify(target.slice(0, 64))} to show`, `name one of the config's doors, or a camera in no door: ${this.o.targets().join(', ') || '(none configured)'}`);
      }
      if (!(SHOWN_PERSON as readonly string[]).includes(show)) throw new FacegateError('FG_ERR_DISPLAY_SHOW', `"${String(show).slice(0, 32)}" is not what a display can show of a person`, `use one of ${SHOWN_PERSON.join(', ')}`);
      if (!LABEL.test(label)) throw new FacegateError('FG_ERR_DISPLAY_LABEL', 'a display label is at most 64 letters, digits, spaces and . _ , : ( ) / -', 'say where the display hangs, e.g. "lobby tablet"');
      const { token, hash } = newDisplayToken();
      const record: DisplayToken = { id: this.newId(), target, show, label, createdMs: this.now(), createdBy: by.actor };
      this.o.db
        .transaction(() => {
          if (this.store.count() >= MAX_DISPLAY_TOKENS) throw new FacegateError('FG_ERR_DISPLAY_TOKENS_FULL', `this box already has ${MAX_DISPLAY_TOKENS} display tokens`, "revoke the ones no display uses ('facegate display token list', then 'revoke ID')");
          this.store.insert(record, hash);
          this.o.audit.append({ ...by, action: 'display.token.add', target, detail: { id: record.id, show, label }, outcome: 'ok' });
        })
        .immediate();
      return { token, record };
    });
  }

  list(): DisplayToken[] {
    return this.store.list();
  }

  /** Revokes a token: its open feeds are closed within a couple of seconds (the console checks them), and it opens nothing again. */
  revoke(id: string, by: Actor): DisplayToken {
    return auditingFailure(this.o.audit, 'display.token.revoke', by, id.slice(0, 64), () =>
      this.o.db
        .transaction(() => {
          const record = TOKEN_ID.test(id) ? this.store.byId(id) : undefined;
          if (!record || !this.store.delete(id)) throw new FacegateError('FG_ERR_DISPLAY_TOKEN_NOT_FOUND', `no display token with id ${JSON.stringify(id.slice(0, 64))}`, "take the id from 'facegate display token list' or the console's Displays page");
          this.o.audit.append({ ...by, action: 'display.token.revoke', target: id, detail: { target: record.target, label: record.label }, outcome: 'ok' });
          return record;
        })
        .immediate(),
    );
  }

  /** The token's record when it opens `target`'s feed; else why not. Nothing else is opened by a display token. */
  open(token: string, target: string): { ok: true; record: DisplayToken } | { ok: false; why: DisplayRefusal; record?: DisplayToken } {
    const record = this.store.byToken(token);
    if (!record) return { ok: false, why: 'invalid' };
    if (record.target !== target) return { ok: false, why: 'other_target', record };
    return { ok: true, record };
  }

  /**
   * The photo a display greets a person with: only where its token shows photos, only the person
   * just greeted, and only into that display's own feed (nothing else serves it, so no other token,
   * no console account and no guessed link ever gets one). Undefined where there is none to show.
   */
  photoFor(token: DisplayToken, personId: string): Buffer | undefined {
    const store = this.o.photos;
    if (token.show !== 'photo' || !store) return undefined;
    let jpeg: Uint8Array | undefined;
    try {
      // Photos come best first: the best that kept the face it was made from.
      const best = store.photos(personId).find((p) => p.hasThumbnail);
      jpeg = best && store.thumbnail(personId, best.templateId);
    } catch {
      // A person erased meanwhile, or a thumbnail that no longer opens: the greeting goes without it.
      return undefined;
    }
    return jpeg && jpeg.length <= MAX_PHOTO_BYTES ? Buffer.from(jpeg) : undefined;
  }

  /** Which of the tokens `ids` are still valid, for the feeds open under them. */
  stillValid(ids: readonly string[]): Set<string> {
    return this.store.existing(ids);
  }
}
