// The console's page: TypeScript with Preact components, bundled by esbuild into static/app.js at
// build time (scripts/build.mjs) and served by the daemon; nothing is fetched from elsewhere. Data
// is only ever put in the page as text (Preact's text and attributes, textContent), never as
// markup, and the CSP forbids inline script. index.html holds the pages' fixed parts; the lists
// in them are drawn here.
import { $, sayFailure } from './dom.js';
import { clear } from './draw.js';
import { verifyAudit } from './pages/audit.js';
import { checkPhotos, enrol, forgetEnrolment } from './pages/enrol.js';
import { exportCsv, showHistory } from './pages/history.js';
import { showPeople } from './pages/people.js';
import { forgetRoster, importRoster } from './pages/roster.js';
import { addPhotos, closePhotos } from './pages/photos.js';
import { forgetTimeline, showTimeline } from './pages/timeline.js';
import { addDisplay } from './pages/displays.js';
import { followHash, route } from './router.js';
import { logIn, logOut, refresh } from './session.js';
import { showReview } from './pages/review.js';

async function login(ev: Event): Promise<void> {
  ev.preventDefault();
  try {
    const password = $<HTMLInputElement>('login-password');
    await logIn($<HTMLInputElement>('login-name').value.trim(), password.value);
    password.value = '';
    await route();
    $('main').focus();
  } catch (e) {
    sayFailure(e);
  }
}

async function logout(): Promise<void> {
  await logOut();
  // What the last account saw (names, faces, proofs) is not left in the page for the next one.
  for (const list of document.querySelectorAll('tbody[id], #unknown-list, #arrival-list, #verdicts, #live-grid, #photo-cards, #threshold-cameras, #system-facts, #display-link')) clear(list);
  closePhotos();
  forgetEnrolment();
  forgetRoster();
  forgetTimeline();
  await route();
}

/** A form's submit that draws its page again with what it asks for. */
const redraw = (id: string, draw: () => Promise<void>) =>
  $(id).addEventListener('submit', (ev) => {
    ev.preventDefault();
    draw().catch(sayFailure);
  });

$('login-form').addEventListener('submit', (ev) => void login(ev));
$('logout').addEventListener('click', () => void logout());
$('enrol-photos').addEventListener('change', () => void checkPhotos());
$('enrol-form').addEventListener('submit', (ev) => void enrol(ev));
$('roster-form').addEventListener('submit', (ev) => void importRoster(ev));
$('photos-add').addEventListener('submit', (ev) => void addPhotos(ev));
$('photos-close').addEventListener('click', closePhotos);
redraw('people-search', showPeople);
redraw('history-filter', showHistory);
redraw('review-filter', showReview);
redraw('timeline-filter', () => showTimeline());
$('h-csv').addEventListener('click', () => void exportCsv());
$('timeline-more').addEventListener('click', () => showTimeline(true).catch(sayFailure));
$('audit-verify').addEventListener('click', () => void verifyAudit());
$('display-add').addEventListener('submit', (ev) => void addDisplay(ev));
window.addEventListener('hashchange', followHash);
// A session survives a reload through the refresh cookie.
void refresh().then(route);
