// The door display's page: one screen at a door that greets each person as they are checked in,
// and says what would help while their face is not decided. It reads its display's feed (server-
// sent events) with the display token from the page's URL fragment, which no request carries; the
// token goes in the Authorization header, which EventSource cannot send, so the feed is read with
// fetch and its events parsed here. Across a daemon restart or a network drop it reconnects.

type Move = 'turn_left' | 'turn_right' | 'nod';
type Prompt = 'step_closer' | 'look_at_camera' | 'hold_still' | 'one_moment' | Move;
interface Payload {
  type: 'greeting' | 'prompt' | 'idle';
  greeting?: 'check_in' | 'check_out' | 'seen';
  name?: string | null;
  clock?: string;
  prompt?: Prompt;
  /** With a greeting, where the display's token shows photos: the person's enrolment photo's face, as a data: URL. */
  photo?: string;
}

const PROMPT_TEXT: Readonly<Record<Prompt, string>> = {
  step_closer: 'Please step closer',
  look_at_camera: 'Please look at the camera',
  hold_still: 'Please hold still',
  one_moment: 'One moment…',
  turn_left: 'Turn your head left',
  turn_right: 'Turn your head right',
  nod: 'Nod your head',
};
/**
 * The arrow beside a requested movement. The screen faces the person, so their own left is the
 * screen's left as they read it: the arrow points the way they turn. A nod goes down and back up.
 */
const ARROW: Readonly<Record<Move, string>> = { turn_left: '←', turn_right: '→', nod: '↓↑' };
const isMove = (p: Prompt): p is Move => Object.hasOwn(ARROW, p);
/** A feed that sends nothing for this long (it sends a heartbeat every 10 s at most) is taken to be dead. */
const SILENCE_MS = 30_000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15_000;

const el = (id: string) => document.getElementById(id)!;
const target = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const token = location.hash.replace(/^#(token=)?/, '');
/** This page's id for itself: its reconnection replaces the feed a network drop left half-open on the daemon. */
const pageId = crypto.randomUUID();

function show(state: string, headline: string, detail: string, arrow = '', photo = ''): void {
  document.body.dataset.state = state;
  const img = el('photo') as HTMLImageElement;
  // Only a JPEG the feed itself carried: never a link the page would fetch.
  if (photo.startsWith('data:image/jpeg;base64,')) img.src = photo;
  else img.removeAttribute('src');
  img.hidden = !img.hasAttribute('src');
  el('headline').textContent = headline;
  el('detail').textContent = detail;
  el('arrow').textContent = arrow;
}

/** The feed's state, said on screen (small) and in the body's data-link for tests and kiosk tooling: open, reconnecting, stopped. */
function link(state: 'open' | 'reconnecting' | 'stopped', text = ''): void {
  document.body.dataset.link = state;
  el('link').textContent = text;
}

function render(p: Payload): void {
  if (p.type === 'greeting') {
    const who = p.name ? `, ${p.name}` : '';
    const photo = typeof p.photo === 'string' ? p.photo : '';
    if (p.greeting === 'check_in') show('greeting', `Welcome${who}`, `checked in ${p.clock ?? ''}`.trim(), '', photo);
    else if (p.greeting === 'check_out') show('greeting', `Goodbye${who}`, `checked out ${p.clock ?? ''}`.trim(), '', photo);
    else show('greeting', `Hello${who}`, '', '', photo);
  } else if (p.type === 'prompt' && p.prompt && Object.hasOwn(PROMPT_TEXT, p.prompt)) {
    if (isMove(p.prompt)) show('challenge', PROMPT_TEXT[p.prompt], 'and back', ARROW[p.prompt]);
    else show('prompt', PROMPT_TEXT[p.prompt], '');
  }
  else show('idle', '', '');
}

/** One server-sent event's block: its event name and data lines. */
function dispatch(block: string): 'go_on' | 'revoked' {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (event === 'revoked') return 'revoked';
  if (event === 'message' && data.length > 0) {
    try {
      render(JSON.parse(data.join('\n')) as Payload);
    } catch {
      // One bad event is skipped; the next replaces it.
    }
  }
  return 'go_on';
}

/** Reads the feed until it ends; says whether to connect again. */
async function follow(): Promise<'again' | 'stop'> {
  const abort = new AbortController();
  let silence = setTimeout(() => abort.abort(), SILENCE_MS);
  try {
    const res = await fetch(`/display/${encodeURIComponent(target)}/feed`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'x-display-page': pageId }, cache: 'no-store', signal: abort.signal });
    if (res.status === 401 || res.status === 403) {
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
      show('refused', 'This display is not set up', body.error?.message ?? `refused (${res.status})`);
      link('stopped');
      return 'stop';
    }
    if (!res.ok || !res.body) {
      link('reconnecting', `Reconnecting… (${res.status})`);
      return 'again';
    }
    link('open');
    retryMs = RETRY_MIN_MS;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'again';
      clearTimeout(silence);
      silence = setTimeout(() => abort.abort(), SILENCE_MS);
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (dispatch(block) === 'revoked') {
          show('refused', 'This display is not set up', "this display's token was revoked");
          link('stopped');
          return 'stop';
        }
      }
      // A feed that never ends a block is not one: start again rather than grow without end.
      if (buffer.length > 65_536) return 'again';
    }
  } catch {
    return 'again';
  } finally {
    clearTimeout(silence);
    abort.abort();
  }
}

let retryMs = RETRY_MIN_MS;

async function run(): Promise<void> {
  if (!token) {
    show('refused', 'This display is not set up', 'open the link an admin made for it (it ends in #fgd_…)');
    link('stopped');
    return;
  }
  for (;;) {
    if ((await follow()) === 'stop') return;
    link('reconnecting', 'Reconnecting…');
    show('idle', '', '');
    await new Promise((r) => setTimeout(r, retryMs));
    retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
  }
}

// A tap makes the page fill the screen: browsers allow it only after a gesture.
document.addEventListener('click', () => void document.documentElement.requestFullscreen?.().catch(() => undefined));
void run();
