// The console page: plain DOM, no framework and no build step. Data is only ever put in the page
// as text (textContent, attributes), never as markup, and the CSP forbids inline script.

const $ = (id) => document.getElementById(id);
const RANK = { viewer: 0, operator: 1, admin: 2 };
const session = { token: null, user: null, refreshTimer: null, zone: null };
let liveTimer = null;

function say(text) {
  $('status').textContent = text;
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ? `${body.error.message} (${body.error.code}). ${body.error.hint ?? ''}` : `request failed: ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

/** Every call: the access token in the Authorization header; one refresh and retry when it has expired. */
async function api(path, { method = 'GET', body, raw = false, retry = true } = {}) {
  const headers = {};
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 401 && retry && session.token && (await refresh())) return api(path, { method, body, raw, retry: false });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return raw ? res : res.json();
}

function startSession(answer) {
  session.token = answer.access_token;
  session.user = answer.user;
  clearTimeout(session.refreshTimer);
  session.refreshTimer = setTimeout(refresh, Math.max(10, answer.expires_in - 30) * 1000);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A new access token from the refresh cookie. Only a refused cookie (401) ends the session: a rate
 * limit (429) or a daemon that cannot answer now (5xx, no network) is waited out, for the time its
 * Retry-After says (or a few seconds), and the refresh tried again.
 */
async function refresh() {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch('/api/session/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' }).catch(() => null);
    if (res?.ok) {
      startSession(await res.json());
      return true;
    }
    if (res && res.status !== 429 && res.status < 500) {
      session.token = null;
      return false;
    }
    const retryAfterS = Number(res?.headers.get('retry-after'));
    const waitS = Number.isFinite(retryAfterS) && retryAfterS > 0 ? Math.min(retryAfterS, 300) : Math.min(2 ** attempt, 30);
    const busy = `The console is busy; trying again in ${Math.ceil(waitS)} s.`;
    say(busy);
    await sleep(waitS * 1000);
    if ($('status').textContent === busy) say('');
  }
}

/**
 * Every time on every page is the site's wall clock (attendance.time_zone), as MQTT and the CSV
 * write it, whatever zone the browser is in; the header says which zone that is.
 */
function siteTime(iso, { date = true } = {}) {
  if (!iso) return '';
  const style = date ? { dateStyle: 'medium', timeStyle: 'medium' } : { timeStyle: 'medium' };
  return new Intl.DateTimeFormat(undefined, { ...style, hourCycle: 'h23', timeZone: session.zone ?? 'UTC' }).format(new Date(iso));
}

function showLoggedIn() {
  const role = session.user?.role;
  $('login-page').hidden = Boolean(role);
  $('nav').hidden = !role;
  $('who').hidden = !role;
  if (!role) return;
  $('who-name').textContent = `${session.user.name} (${role})`;
  $('site-zone').textContent = session.zone ? `Times: ${session.zone}` : '';
  for (const li of document.querySelectorAll('#nav li[data-role]')) li.hidden = RANK[role] < RANK[li.dataset.role];
}

const PAGES = { cameras: showCameras, people: showPeople, history: showHistory, unknowns: showUnknowns, thresholds: showThresholds, audit: showAudit, system: showSystem, timeline: showTimeline };
const PAGE_ROLE = { cameras: 'viewer', people: 'operator', history: 'viewer', unknowns: 'operator', thresholds: 'operator', audit: 'admin', system: 'viewer', timeline: 'viewer' };

async function route() {
  clearInterval(liveTimer);
  for (const p of document.querySelectorAll('.page')) p.hidden = true;
  showLoggedIn();
  if (!session.user) return void $('login-name').focus();
  if (!session.zone) {
    session.zone = (await api('/api/me').catch(() => ({}))).time_zone ?? null;
    showLoggedIn();
  }
  let page = location.hash.slice(1);
  if (!PAGES[page] || RANK[session.user.role] < RANK[PAGE_ROLE[page]]) page = 'cameras';
  for (const a of document.querySelectorAll('#nav a')) a.removeAttribute('aria-current');
  document.querySelector(`#nav a[href="#${page}"]`)?.setAttribute('aria-current', 'page');
  $(`${page}-page`).hidden = false;
  say('');
  try {
    await PAGES[page]();
  } catch (e) {
    say(e.message);
  }
}

// --- cameras ---------------------------------------------------------------

async function showCameras() {
  const cams = await api('/api/cameras');
  $('camera-rows').replaceChildren(
    ...cams.map((c) => el('tr', {}, el('th', { scope: 'row', text: c.camera }), el('td', { text: c.state }), el('td', { text: String(c.fps_in) }), el('td', { text: String(c.fps_processed) }), el('td', { text: String(c.frames_skipped) }), el('td', { text: c.last_error?.message ?? '' }))),
  );
  if (cams.length === 0) say('No cameras are configured.');
  watchAll(cams.map((c) => c.camera));
}

/**
 * Every camera at once: the daemon's newest frame of each, with its boxes and labels, fetched with
 * the token once a second per camera (the daemon encodes a camera's frame once for all viewers).
 */
function watchAll(cameras) {
  clearInterval(liveTimer);
  const tiles = cameras.map((camera) => {
    const img = el('img', { alt: `Live view of camera ${camera} with the faces the daemon tracks` });
    const caption = el('figcaption', { text: camera });
    return { camera, img, caption, busy: false, figure: el('figure', { 'data-camera': camera }, img, caption) };
  });
  $('live-grid').replaceChildren(...tiles.map((t) => t.figure));
  const tick = (t) => async () => {
    if (t.busy) return;
    t.busy = true;
    try {
      const res = await api(`/api/cameras/${encodeURIComponent(t.camera)}/frame.jpg`, { raw: true });
      const url = URL.createObjectURL(await res.blob());
      if (t.img.src.startsWith('blob:')) URL.revokeObjectURL(t.img.src);
      t.img.src = url;
      t.caption.textContent = t.camera;
    } catch (e) {
      t.caption.textContent = `${t.camera}: ${e.message}`;
    } finally {
      t.busy = false;
    }
  };
  const ticks = tiles.map(tick);
  const all = () => ticks.forEach((f) => void f());
  all();
  liveTimer = setInterval(all, 1000);
}

// --- people ----------------------------------------------------------------

const checked = new Map();

async function showPeople() {
  const q = $('people-q').value.trim();
  const people = await api(`/api/people${q ? `?q=${encodeURIComponent(q)}` : ''}`);
  $('people-rows').replaceChildren(
    ...people.map((p) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row', text: p.name }),
        el('td', { text: p.external_id ?? '' }),
        el('td', { text: p.group ?? '' }),
        el(
          'td',
          {},
          el('button', { type: 'button', text: `Rename ${p.name}`, onclick: () => renamePerson(p) }),
          ' ',
          el('button', { type: 'button', text: `Change group of ${p.name}`, onclick: () => regroupPerson(p) }),
          ' ',
          el('button', { type: 'button', text: `Photos of ${p.name}`, onclick: () => showPhotos(p).catch((e) => say(e.message)) }),
          ...(session.user.role === 'admin' ? [' ', el('button', { type: 'button', text: `Erase ${p.name}`, onclick: () => erasePerson(p) })] : []),
        ),
      ),
    ),
  );
  await showQuarantined();
}

/** Persons whose gallery rows failed authentication: shown by id only (their name cannot be trusted). */
async function showQuarantined() {
  const quarantined = await api('/api/people/quarantined');
  $('quarantine-table').hidden = quarantined.length === 0;
  $('quarantine-rows').replaceChildren(
    ...quarantined.map((q) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row', text: q.id }),
        el('td', { text: `${q.cells.map((c) => `${c.kind.toUpperCase()} ${c.table}.${c.column} ${c.row}`).join(', ')}${q.cells_total > q.cells.length ? ` and ${q.cells_total - q.cells.length} more` : ''}` }),
        el('td', {}, ...(session.user.role === 'admin' ? [el('button', { type: 'button', text: `Erase ${q.id}`, onclick: () => erasePerson({ id: q.id, name: q.id }) })] : [])),
      ),
    ),
  );
}

/**
 * Asks for one value in the page's modal dialog (focus kept inside, Escape cancels): the typed
 * value, or null when cancelled. `required` keeps OK from sending an empty value.
 */
function ask({ title, text, label, value = '', ok, required = true }) {
  const dialog = $('ask');
  $('ask-title').textContent = title;
  $('ask-text').textContent = text;
  $('ask-label').textContent = label;
  $('ask-ok').textContent = ok;
  const input = $('ask-input');
  input.value = value;
  input.required = required;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' ? input.value.trim() : null), { once: true });
    dialog.showModal();
    input.select();
  });
}

async function renamePerson(p) {
  const name = await ask({ title: `Rename ${p.name}`, text: 'The new name is used from now on; past records keep the person.', label: 'New name', value: p.name, ok: 'Rename' });
  if (!name) return;
  await act(() => api(`/api/people/${encodeURIComponent(p.id)}`, { method: 'PATCH', body: { name } }), `Renamed to ${name}.`);
}

async function regroupPerson(p) {
  const group = await ask({ title: `Group of ${p.name}`, text: 'Leave empty for no group.', label: 'Group', value: p.group ?? '', ok: 'Change group', required: false });
  if (group === null) return;
  await act(() => api(`/api/people/${encodeURIComponent(p.id)}`, { method: 'PATCH', body: { group: group || null } }), 'Group changed.');
}

async function erasePerson(p) {
  const typed = await ask({ title: `Erase ${p.name} everywhere`, text: `This removes ${p.name} everywhere: photos, templates, attendance and proofs, and cannot be undone. Type their id to confirm: ${p.id}`, label: 'Their id', ok: 'Erase' });
  if (typed === null) return;
  await act(() => api(`/api/people/${encodeURIComponent(p.id)}/erase`, { method: 'POST', body: { confirm: typed } }), `${p.name} was erased.`);
}

async function act(fn, done) {
  try {
    await fn();
    say(done);
    await showPeople();
  } catch (e) {
    say(e.message);
  }
}

// A person's photos: opened by the daemon for this one answer (audited), never cached by the page.
const photosOf = { person: null };

async function showPhotos(p) {
  const r = await api(`/api/people/${encodeURIComponent(p.id)}/photos`);
  photosOf.person = { id: r.id, name: r.name };
  $('photos-title').textContent = `Photos of ${r.name} (${r.photos.length})`;
  $('photo-cards').replaceChildren(
    ...r.photos.map((ph) => {
      const remove = el('button', { type: 'button', text: `Remove photo ${ph.photo}`, onclick: () => removePhoto(ph.photo) });
      // The last photo stays (the daemon refuses it too): without one the person is never recognised.
      remove.disabled = r.photos.length === 1;
      const face = ph.thumbnail ? el('img', { class: 'thumb', src: `data:image/jpeg;base64,${ph.thumbnail}`, alt: `Photo ${ph.photo} of ${r.name}` }) : el('span', { text: 'no face kept' });
      return el('li', {}, face, el('p', { text: `#${ph.photo}, quality ${ph.quality}, ${ph.source}, ${siteTime(ph.created)}` }), remove);
    }),
  );
  $('photos-panel').hidden = false;
  $('photos-title').scrollIntoView?.();
}

async function removePhoto(photo) {
  const p = photosOf.person;
  try {
    const r = await api(`/api/people/${encodeURIComponent(p.id)}/photos/${photo}`, { method: 'DELETE' });
    say(`Photo ${photo} of ${p.name} removed; ${r.left} left.`);
    await showPhotos(p);
  } catch (e) {
    say(e.message);
  }
}

/** New photos for the open person, each through the quality gate on the daemon as at enrolment. */
async function addPhotos(ev) {
  ev.preventDefault();
  const p = photosOf.person;
  const files = [...$('photos-file').files].slice(0, 5);
  if (!p || files.length === 0) return say('Choose one or more photos first.');
  try {
    for (const f of files) if (f.size > 4 * 1024 * 1024) throw new Error(`${f.name} is over 4 MiB: use a smaller photo`);
    const photos = await Promise.all(files.map(async (f) => ({ name: f.name, data: await readBase64(f) })));
    const r = await api(`/api/people/${encodeURIComponent(p.id)}/photos`, { method: 'POST', body: { photos } });
    const refused = r.refused.map((x) => `${x.file}: ${x.detail}`).join('; ');
    say(`${r.templates} photo${r.templates === 1 ? '' : 's'} added to ${p.name}${r.dropped ? `; ${r.dropped} weakest dropped` : ''}${refused ? `. Refused: ${refused}` : ''}.`);
    $('photos-add').reset();
    await showPhotos(p);
  } catch (e) {
    say(e.message);
  }
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

/** Each photo goes through the daemon's quality gate as soon as it is picked; its verdict is shown before saving. */
async function checkPhotos() {
  const files = [...$('enrol-photos').files].slice(0, 5);
  checked.clear();
  $('verdicts').replaceChildren();
  $('enrol-save').disabled = true;
  for (const file of files) {
    const item = el('li', { text: `${file.name}: checking…` });
    $('verdicts').append(item);
    try {
      // The server's rule (ops/person-input.ts), said before the upload.
      if (file.size > 4 * 1024 * 1024) throw new Error('over 4 MiB: use a smaller photo');
      const data = await readBase64(file);
      const v = await api('/api/people/check-photo', { method: 'POST', body: { photo: { name: file.name, data } } });
      if (v.ok) {
        checked.set(file.name, data);
        item.replaceChildren(el('img', { class: 'thumb', src: `data:image/jpeg;base64,${v.thumbnail}`, alt: `Face found in ${file.name}` }), el('span', { class: 'ok', text: `${file.name}: accepted, quality ${v.quality}, face ${v.face_px} px${v.matches ? `. Warning: ${v.matches}` : ''}` }));
      } else {
        item.replaceChildren(el('span', { class: 'refused', text: `${file.name}: refused (${v.reason}): ${v.detail}` }));
      }
    } catch (e) {
      item.replaceChildren(el('span', { class: 'refused', text: `${file.name}: ${e.message}` }));
    }
  }
  $('enrol-save').disabled = checked.size === 0;
  say(`${checked.size} of ${files.length} photos accepted.`);
}

async function enrol(ev) {
  ev.preventDefault();
  const body = { name: $('enrol-name').value.trim(), photos: [...checked].map(([name, data]) => ({ name, data })) };
  const id = $('enrol-id').value.trim();
  const group = $('enrol-group').value.trim();
  if (id) body.id = id;
  if (group) body.group = group;
  try {
    const r = await api('/api/people', { method: 'POST', body });
    say(`${r.name} enrolled from ${r.templates} photo${r.templates === 1 ? '' : 's'}.`);
    $('enrol-form').reset();
    $('verdicts').replaceChildren();
    checked.clear();
    $('enrol-save').disabled = true;
    await showPeople();
  } catch (e) {
    say(e.message);
  }
}

// --- timeline --------------------------------------------------------------

const timelinePage = { next: null };

/** Why a decision went as it did, in words: the liveness cues' shares, the spoof reasons, the quality verdict. */
function why(e) {
  const d = e.detail;
  if (d.reason) return d.reason;
  if (d.reasons) return `refused: ${d.reasons.join(', ')}`;
  if (d.cluster) return `was ${e.anon_id}`;
  const cues = d.liveness ? Object.entries(d.liveness).filter(([k, v]) => k !== 'score' && v !== 0).map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v.toFixed(1)}`) : [];
  return [d.live ? 'live' : 'not live yet', ...cues, d.face_px ? `face ${d.face_px} px` : ''].filter(Boolean).join(', ');
}

function timelineQuery() {
  const q = new URLSearchParams();
  for (const [key, id] of [['camera', 't-camera'], ['person', 't-person'], ['kind', 't-kind'], ['from', 't-from'], ['to', 't-to']]) {
    const v = $(id).value.trim();
    if (v) q.set(key, v);
  }
  return q;
}

async function showTimeline(more = false) {
  const q = timelineQuery();
  if (more && timelinePage.next) q.set('before', String(timelinePage.next));
  const page = await api(`/api/timeline?${q}`);
  const rows = page.entries.map((e) => {
    const who = e.person?.name ?? e.anon_id ?? '';
    const face = e.has_crop ? el('button', { type: 'button', text: `Show face of ${who || e.kind} at ${siteTime(e.at)}`, onclick: (ev) => showCrop(ev.target, e, who) }) : '';
    // A face the camera kept can teach a person (has_crop is only set for operators and admins).
    const teach = e.has_crop ? el('button', { type: 'button', text: `Teach from entry ${e.id}`, onclick: () => teachFrom(e) }) : '';
    return el('tr', {}, el('td', { text: siteTime(e.at) }), el('td', { text: e.camera }), el('td', { text: e.kind.replace('_', ' ') }), el('th', { scope: 'row', text: who }), el('td', { text: e.score === null ? '' : e.score.toFixed(2) }), el('td', { text: why(e) }), el('td', {}, face, ' ', teach));
  });
  if (more) $('timeline-rows').append(...rows);
  else $('timeline-rows').replaceChildren(...rows);
  timelinePage.next = page.next;
  $('timeline-more').hidden = page.next === null;
  if (!more && page.entries.length === 0) say('No decisions match.');
}

/**
 * Teach a person from a sighting: the gate's verdict on the camera's face comes first, then the
 * person (their id, the recognised person's by default) is asked for and the face added to them.
 */
async function teachFrom(entry) {
  try {
    const person = entry.person?.id ?? '';
    const v = await api('/api/people/check-sighting', { method: 'POST', body: { sighting: entry.id } });
    if (!v.ok) return say(`The face of entry ${entry.id} cannot teach anyone (${v.reason}): ${v.detail}`);
    const verdict = `The enrolment gate accepts this face: quality ${v.quality}, face ${v.face_px} px${v.matches ? `. Note: ${v.matches}` : ''}.`;
    const ref = await ask({ title: `Teach from entry ${entry.id}`, text: `${verdict} Add it to whom? Give their id or staff id.`, label: 'Person id', value: person, ok: 'Teach' });
    if (!ref) return;
    const r = await api(`/api/people/${encodeURIComponent(ref)}/teach`, { method: 'POST', body: { sighting: entry.id } });
    say(r.templates ? `${r.name} was taught from entry ${entry.id}${r.dropped ? `; ${r.dropped} weakest photo dropped` : ''}.` : `Entry ${entry.id} was weaker than every photo ${r.name} has; nothing changed.`);
  } catch (e) {
    say(e.message);
  }
}

/** A face crop is opened by the daemon for this one request (audited) and never cached. */
async function showCrop(button, entry, who) {
  try {
    const res = await api(`/api/timeline/${entry.id}/crop.jpg`, { raw: true });
    button.replaceWith(el('img', { class: 'thumb', src: URL.createObjectURL(await res.blob()), alt: `Face of ${who || 'the person'} at ${entry.camera}, ${siteTime(entry.at)}` }));
  } catch (e) {
    say(e.message);
  }
}

// --- history ---------------------------------------------------------------

function historyQuery() {
  const q = new URLSearchParams();
  for (const [key, id] of [['from', 'h-from'], ['to', 'h-to'], ['person', 'h-person'], ['camera', 'h-camera'], ['group', 'h-group']]) {
    const v = $(id).value.trim();
    if (v) q.set(key, v);
  }
  return q.toString();
}

const time = (iso) => siteTime(iso, { date: false });

async function showHistory() {
  const days = await api(`/api/history?${historyQuery()}`);
  $('history-rows').replaceChildren(
    ...days.map((d) =>
      el(
        'tr',
        {},
        el('td', { text: d.date }),
        el('th', { scope: 'row', text: d.name }),
        el('td', { text: d.group ?? '' }),
        el('td', { text: d.status.replace('_', ' ') }),
        el('td', { text: d.check_in ? `${time(d.check_in)} (${d.check_in_camera})` : '' }),
        el('td', { text: d.check_out ? `${time(d.check_out)} (${d.check_out_camera})` : '' }),
        el('td', { text: `${time(d.last_seen)} (${d.last_seen_camera})` }),
        el('td', {}, ...d.proofs.map((kind) => el('button', { type: 'button', text: `Show ${kind.replace('_', '-')} proof of ${d.name}`, onclick: (e) => showProof(e.target, d, kind) }))),
      ),
    ),
  );
  if (days.length === 0) say('No attendance in this range.');
}

/** A proof is decrypted by the daemon for this one request and never cached (no-store). */
async function showProof(button, day, kind) {
  try {
    const res = await api(`/api/history/${encodeURIComponent(day.record_id)}/proof/${kind}`, { raw: true });
    const img = el('img', { class: 'thumb', src: URL.createObjectURL(await res.blob()), alt: `${kind.replace('_', '-')} proof of ${day.name} on ${day.date}` });
    button.replaceWith(img);
  } catch (e) {
    say(e.message);
  }
}

async function exportCsv() {
  try {
    const res = await api(`/api/history.csv?${historyQuery()}`, { raw: true });
    const a = el('a', { href: URL.createObjectURL(await res.blob()), download: 'facegate-history.csv' });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) {
    say(e.message);
  }
}

// --- unknowns --------------------------------------------------------------

async function showUnknowns() {
  const list = await api('/api/unknowns');
  const items = await Promise.all(
    list.map(async (u) => {
      const face = u.has_face ? el('img', { class: 'thumb', alt: `Best face of ${u.anon_id}`, src: URL.createObjectURL(await (await api(`/api/unknowns/${u.anon_id}/face.jpg`, { raw: true })).blob()) }) : el('p', { text: 'no face kept' });
      const nameId = `promote-${u.anon_id}`;
      const field = (suffix, label, attrs) => [el('label', { for: `${nameId}-${suffix}`, text: label }), el('input', { id: `${nameId}-${suffix}`, maxlength: '200', ...attrs })];
      const form = el(
        'form',
        { 'aria-label': `Promote ${u.anon_id}` },
        el('label', { for: nameId, text: 'Name' }),
        el('input', { id: nameId, required: '', maxlength: '200' }),
        ...field('id', 'Staff id (optional)', { maxlength: '128' }),
        ...field('group', 'Group (optional)', {}),
        el('button', { type: 'submit', text: `Promote ${u.anon_id}` }),
      );
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const optional = Object.fromEntries(['id', 'group'].map((k) => [k, $(`${nameId}-${k}`).value.trim()]).filter(([, v]) => v));
        try {
          const r = await api(`/api/unknowns/${u.anon_id}/promote`, { method: 'POST', body: { name: $(nameId).value.trim(), ...optional } });
          await showUnknowns();
          say(`${u.anon_id} is now ${r.name}.`);
        } catch (e) {
          say(e.message);
        }
      });
      const teach = u.has_face ? el('button', { type: 'button', text: `${u.anon_id} is someone enrolled`, onclick: () => teachFromUnknown(u) }) : '';
      return el('li', {}, face, el('p', { text: `${u.anon_id}: seen ${siteTime(u.first_seen)} to ${siteTime(u.last_seen)}, ${u.frames} frames kept` }), sightingsOf(u), form, teach);
    }),
  );
  $('unknown-list').replaceChildren(...items);
  if (list.length === 0) say('No unknown persons right now.');
}

/**
 * An unknown who is an enrolled person (new glasses, a haircut): the gate's verdict on their best
 * face first, then whom they are; their best frames become that person's photos.
 */
async function teachFromUnknown(u) {
  try {
    const v = await api(`/api/unknowns/${u.anon_id}/check`, { method: 'POST', body: {} });
    if (!v.ok) return say(`${u.anon_id} cannot teach anyone (${v.reason}): ${v.detail}`);
    const verdict = `The enrolment gate accepts their best face: quality ${v.quality}, face ${v.face_px} px${v.matches ? `. Note: ${v.matches}` : ''}.`;
    const person = await ask({ title: `Who is ${u.anon_id}?`, text: `${verdict} Their ${u.frames} best frames go to the person you name.`, label: 'Person id or staff id', ok: 'Teach' });
    if (!person) return;
    const r = await api(`/api/unknowns/${u.anon_id}/teach`, { method: 'POST', body: { person } });
    await showUnknowns();
    say(`${r.name} was taught from ${u.anon_id} (${r.templates} frame${r.templates === 1 ? '' : 's'}${r.dropped ? `; ${r.dropped} weakest photo dropped` : ''}).`);
  } catch (e) {
    say(e.message);
  }
}

/** Where and when an unknown person was seen, newest first, in a disclosure so a long list stays out of the way. */
function sightingsOf(u) {
  const rows = u.sightings.map((s) => el('tr', {}, el('td', { text: siteTime(s.at) }), el('td', { text: s.camera })));
  const table = el('table', { class: 'sightings' }, el('caption', { text: `Sightings of ${u.anon_id}, newest first` }), el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'When' }), el('th', { scope: 'col', text: 'Camera' }))), el('tbody', {}, ...rows));
  const cameras = new Set(u.sightings.map((s) => s.camera)).size;
  return el('details', {}, el('summary', { text: `${u.sightings.length} sighting${u.sightings.length === 1 ? '' : 's'} on ${cameras} camera${cameras === 1 ? '' : 's'}` }), table);
}

// --- thresholds ------------------------------------------------------------

async function showThresholds() {
  const cams = await api('/api/thresholds');
  $('threshold-cameras').replaceChildren(...cams.map(thresholdCard));
  if (cams.length === 0) say('No cameras are configured.');
}

function thresholdCard(t) {
  const most = Math.max(1, ...t.scores.map((b) => b.recognized + b.unknown));
  const bar = (n, kind) => {
    const b = el('span', { class: `bar ${kind}` });
    b.style.width = `${(12 * n) / most}rem`;
    return b;
  };
  const rows = t.scores.filter((b) => b.recognized + b.unknown > 0).map((b) => el('tr', {}, el('th', { scope: 'row', text: `${b.from.toFixed(2)} to ${(b.from + 0.05).toFixed(2)}` }), el('td', {}, bar(b.recognized, 'recognized'), ` ${b.recognized}`), el('td', {}, bar(b.unknown, 'unknown'), ` ${b.unknown}`)));
  const card = el(
    'section',
    { class: 'threshold-camera', 'aria-label': `Camera ${t.camera}` },
    el('h3', { text: t.camera }),
    el('p', { text: `Threshold ${t.threshold}, margin ${t.margin} (${t.source === 'site' ? 'set on site' : 'from the config'}).` }),
    rows.length
      ? el('table', {}, el('caption', { text: `Best scores of recent decisions at ${t.camera}` }), el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Score' }), el('th', { scope: 'col', text: 'Recognised' }), el('th', { scope: 'col', text: 'Unknown' }))), el('tbody', {}, ...rows))
      : el('p', { text: 'No decisions yet since the daemon started.' }),
  );
  if (session.user.role !== 'admin') return card;
  const id = (what) => `th-${what}-${t.camera}`;
  const form = el(
    'form',
    { 'aria-label': `Change the thresholds of ${t.camera}` },
    el('label', { for: id('threshold'), text: 'Threshold' }),
    el('input', { id: id('threshold'), type: 'number', min: '-1', max: '1', step: '0.01', value: String(t.threshold), required: '' }),
    el('label', { for: id('margin'), text: 'Margin' }),
    el('input', { id: id('margin'), type: 'number', min: '0', max: '2', step: '0.01', value: String(t.margin), required: '' }),
    el('button', { type: 'submit', text: `Apply to ${t.camera}` }),
    el('button', { type: 'button', text: `Back to the config's for ${t.camera}`, onclick: () => setThreshold(t.camera, null) }),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void setThreshold(t.camera, { threshold: Number($(id('threshold')).value), margin: Number($(id('margin')).value) });
  });
  card.append(form);
  return card;
}

async function setThreshold(camera, rules) {
  try {
    const t = await api(`/api/thresholds/${encodeURIComponent(camera)}`, { method: 'PUT', body: { rules } });
    await showThresholds();
    say(`${camera}: threshold ${t.threshold}, margin ${t.margin}, applied from the next decision.`);
  } catch (e) {
    say(e.message);
  }
}

// --- audit -----------------------------------------------------------------

async function showAudit() {
  const entries = await api('/api/audit?limit=200');
  $('audit-rows').replaceChildren(...entries.map((e) => el('tr', {}, el('td', { text: String(e.seq) }), el('td', { text: siteTime(e.at) }), el('td', { text: e.actor }), el('td', { text: e.role }), el('td', { text: e.action }), el('td', { text: e.target ?? '' }), el('td', { text: e.outcome }))));
}

async function verifyAudit() {
  try {
    const v = await api('/api/audit/verify');
    $('audit-verdict').textContent = v.ok ? `Chain intact: ${v.entries} entries.` : `Chain broken: ${v.problems.map((p) => p.message).join('; ')}`;
  } catch (e) {
    say(e.message);
  }
}

// --- system ----------------------------------------------------------------

const GIB = 1024 ** 3;
const span = (s) => (s < 120 ? `${s} s` : s < 7200 ? `${Math.floor(s / 60)} min` : s < 172800 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86400)} days`);

/** The daemon's status (the same report as `facegate status --json`), refreshed while the page is open. */
async function showSystem() {
  const draw = async () => {
    const s = await api('/api/system');
    $('system-summary').textContent = s.summary;
    const broker = !s.mqtt.enabled ? 'off' : s.mqtt.connected ? 'connected' : `not connected: events wait in the outbox (${s.mqtt.reconnects} reconnects)`;
    const facts = [
      ['Pipeline', s.liveness.alive ? 'alive' : `stuck: ${s.liveness.problems.join('; ')}`],
      ['MQTT broker', broker],
      ['Outbox', s.outbox.pending === 0 ? 'empty' : `${s.outbox.pending} event${s.outbox.pending === 1 ? '' : 's'} waiting, the oldest for ${span(s.outbox.oldestAgeS)}`],
      ['Disk', s.disk ? `${(s.disk.free_bytes / GIB).toFixed(1)} GiB free of ${(s.disk.total_bytes / GIB).toFixed(1)} GiB (${s.disk.path})` : 'cannot be read'],
      ['Gallery', `${s.gallery.templates} templates${s.gallery.quarantined_persons ? `, ${s.gallery.quarantined_persons} person(s) quarantined` : ''}`],
      ['Version', s.version],
      ['Device', s.device],
      ['Up for', span(s.uptime_s)],
      ['Time zone', session.zone ?? ''],
    ];
    $('system-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
    $('system-cameras').replaceChildren(...s.cameras.map((c) => el('tr', {}, el('th', { scope: 'row', text: c.camera }), el('td', { text: c.state }), el('td', { text: String(c.fps_processed) }), el('td', { text: String(c.reconnects_last_hour) }), el('td', { text: c.last_error?.message ?? '' }))));
    $('system-models').replaceChildren(...s.models.map((m) => el('tr', {}, el('th', { scope: 'row', text: m.name }), el('td', { text: `${m.package}@${m.version}` }), el('td', { class: 'hash', text: m.sha256 }))));
  };
  await draw();
  liveTimer = setInterval(() => draw().catch((e) => say(e.message)), 5000);
}

// --- start -----------------------------------------------------------------

async function login(ev) {
  ev.preventDefault();
  try {
    const res = await fetch('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: $('login-name').value.trim(), password: $('login-password').value }), credentials: 'same-origin' });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, body);
    $('login-password').value = '';
    startSession(body);
    await route();
    $('main').focus();
  } catch (e) {
    say(e.message);
  }
}

async function logout() {
  await fetch('/api/session/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' }).catch(() => undefined);
  clearTimeout(session.refreshTimer);
  session.token = null;
  session.user = null;
  // What the last account saw (names, faces, proofs) is not left in the page for the next one.
  for (const list of document.querySelectorAll('tbody, #unknown-list, #verdicts, #live-grid, #photo-cards')) list.replaceChildren();
  $('photos-panel').hidden = true;
  photosOf.person = null;
  await route();
}

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
$('enrol-photos').addEventListener('change', checkPhotos);
$('enrol-form').addEventListener('submit', enrol);
$('photos-add').addEventListener('submit', addPhotos);
$('photos-close').addEventListener('click', () => ($('photos-panel').hidden = true));
$('people-search').addEventListener('submit', (ev) => (ev.preventDefault(), showPeople().catch((e) => say(e.message))));
$('history-filter').addEventListener('submit', (ev) => (ev.preventDefault(), showHistory().catch((e) => say(e.message))));
$('h-csv').addEventListener('click', exportCsv);
$('timeline-filter').addEventListener('submit', (ev) => (ev.preventDefault(), showTimeline().catch((e) => say(e.message))));
$('timeline-more').addEventListener('click', () => showTimeline(true).catch((e) => say(e.message)));
$('audit-verify').addEventListener('click', verifyAudit);
window.addEventListener('hashchange', route);
// A session survives a reload through the refresh cookie.
void refresh().then(route);
