// Which page shows: the one the location's hash names, if the account's role may see it (the
// cameras page otherwise); the header's menu lists only those it may.
import { $, say, sayFailure } from './dom.js';
import { showAudit } from './pages/audit.js';
import { showDisplays } from './pages/displays.js';
import { showCameras } from './pages/cameras.js';
import { showHistory } from './pages/history.js';
import { showPeople } from './pages/people.js';
import { showReview } from './pages/review.js';
import { showSystem } from './pages/system.js';
import { showThresholds } from './pages/thresholds.js';
import { showTimeline } from './pages/timeline.js';
import { showUnknowns } from './pages/unknowns.js';
import { api, hasRole, RANK, session } from './session.js';
import type { Role } from './types.js';

/** Draws a page from the API; what it returns stops what it left running (a timer, live pictures) when another page shows. */
type Show = () => Promise<void | (() => void)>;

const PAGES: Readonly<Record<string, { role: Role; show: Show }>> = {
  cameras: { role: 'viewer', show: showCameras },
  people: { role: 'operator', show: showPeople },
  timeline: { role: 'viewer', show: () => showTimeline() },
  history: { role: 'viewer', show: showHistory },
  review: { role: 'operator', show: showReview },
  unknowns: { role: 'operator', show: showUnknowns },
  thresholds: { role: 'operator', show: showThresholds },
  displays: { role: 'admin', show: showDisplays },
  audit: { role: 'admin', show: showAudit },
  system: { role: 'viewer', show: showSystem },
};

let leave: (() => void) | undefined;
/** Counts the routes taken: a page that finished drawing after another was asked for stops at once. */
let generation = 0;
/** The hash the latest route read: what its page shows, or is drawing. */
let read: string | undefined;

function showLoggedIn(): void {
  const user = session.user;
  $('login-page').hidden = Boolean(user);
  $('nav').hidden = !user;
  $('who').hidden = !user;
  if (!user) return;
  $('who-name').textContent = `${user.name} (${user.role})`;
  $('site-zone').textContent = session.zone ? `Times: ${session.zone}` : '';
  for (const li of document.querySelectorAll<HTMLElement>('#nav li[data-role]')) li.hidden = RANK[user.role] < RANK[li.dataset.role as Role];
}

/**
 * A link followed. The location's hash changes before its event comes, so a route under way (a
 * login's, waiting for the site's zone) may read the new hash and draw its page already: drawing it
 * again on the event would ask the API twice and redraw under the reader's eyes.
 */
export function followHash(): void {
  if (location.hash.slice(1) !== read) void route();
}

export async function route(): Promise<void> {
  const mine = ++generation;
  leave?.();
  leave = undefined;
  for (const p of document.querySelectorAll<HTMLElement>('.page')) p.hidden = true;
  showLoggedIn();
  read = undefined;
  if (!session.user) return void $('login-name').focus();
  if (!session.zone) {
    session.zone = (await api<{ time_zone?: string }>('/api/me').catch(() => ({ time_zone: undefined }))).time_zone ?? null;
    // A route asked for meanwhile (a login's, then the hash the user followed) draws the page:
    // this one going on too would draw it a second time under the reader's eyes.
    if (mine !== generation) return;
    showLoggedIn();
  }
  const asked = location.hash.slice(1);
  read = asked;
  const name = PAGES[asked] && hasRole(PAGES[asked].role) ? asked : 'cameras';
  for (const a of document.querySelectorAll('#nav a')) a.removeAttribute('aria-current');
  document.querySelector(`#nav a[href="#${name}"]`)?.setAttribute('aria-current', 'page');
  $(`${name}-page`).hidden = false;
  say('');
  try {
    const stop = await (PAGES[name] ?? PAGES.cameras!).show();
    if (mine === generation) leave = stop ?? undefined;
    else stop?.();
  } catch (e) {
    sayFailure(e);
  }
}
