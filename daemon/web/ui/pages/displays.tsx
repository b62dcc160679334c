// The displays page (admins): the door displays' tokens. A new token's link is shown once, in the
// page alone (the daemon keeps only its hash); each token can be revoked, which closes its display.
import { siteTime } from '../clock.js';
import { $, say, sayFailure, valueOf } from '../dom.js';
import { draw } from '../draw.js';
import { api } from '../session.js';

interface DisplayToken {
  id: string;
  target: string;
  show: string;
  label: string;
  created: string;
  created_by: string;
}

export async function showDisplays(): Promise<void> {
  const { targets, tokens } = await api<{ targets: string[]; tokens: DisplayToken[] }>('/api/displays');
  draw(
    $('display-target'),
    targets.map((t) => (
      <option key={t} value={t}>
        {t}
      </option>
    )),
  );
  draw(
    $('display-rows'),
    tokens.map((t) => (
      <tr key={t.id}>
        <td>{t.target}</td>
        <td>{t.label}</td>
        <td>{t.show}</td>
        <td>{siteTime(t.created)}</td>
        <td>{t.created_by}</td>
        <td>
          <button type="button" onClick={() => void revoke(t)}>
            Revoke {t.label || t.target}
          </button>
        </td>
      </tr>
    )),
  );
}

async function revoke(t: DisplayToken): Promise<void> {
  try {
    await api(`/api/displays/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
    say(`The token of ${t.label || t.target} is revoked; its display closes within seconds.`);
    await showDisplays();
  } catch (e) {
    sayFailure(e);
  }
}

export async function addDisplay(ev: Event): Promise<void> {
  ev.preventDefault();
  try {
    const made = await api<{ target: string; path: string }>('/api/displays', { method: 'POST', body: { target: valueOf('display-target'), show: valueOf('display-show'), label: valueOf('display-label') } });
    // Shown here once: the token is in the link's fragment, which the browser never sends.
    $('display-link').textContent = `${location.origin}${made.path}`;
    say(`A display token for ${made.target} is made: open the link below on the display. It is not shown again.`);
    await showDisplays();
  } catch (e) {
    sayFailure(e);
  }
}
