// The thresholds page (operators and admins): the best scores of each camera's recent decisions,
// and (admins) a new threshold and margin applied from the next decision.
import { $, say, sayFailure } from '../dom.js';
import { draw } from '../draw.js';
import { api, hasRole } from '../session.js';
import type { Thresholds } from '../types.js';

export async function showThresholds(): Promise<void> {
  const cams = await api<Thresholds[]>('/api/thresholds');
  const admin = hasRole('admin');
  draw(
    $('threshold-cameras'),
    cams.map((t) => <ThresholdCard key={t.camera} t={t} admin={admin} />),
  );
  if (cams.length === 0) say('No cameras are configured.');
}

/** A bar as long as its count, 12 rem for the most; its width set through the CSSOM, which the CSP allows. */
const Bar = ({ n, most, kind }: { n: number; most: number; kind: 'recognized' | 'unknown' }) => <span class={`bar ${kind}`} style={{ width: `${(12 * n) / most}rem` }} />;

function ThresholdCard({ t, admin }: { t: Thresholds; admin: boolean }) {
  const most = Math.max(1, ...t.scores.map((b) => b.recognized + b.unknown));
  const buckets = t.scores.filter((b) => b.recognized + b.unknown > 0);
  return (
    <section class="threshold-camera" aria-label={`Camera ${t.camera}`}>
      <h3>{t.camera}</h3>
      <p>{`Threshold ${t.threshold}, margin ${t.margin} (${t.source === 'site' ? 'set on site' : 'from the config'}).`}</p>
      {buckets.length ? (
        <table>
          <caption>{`Best scores of recent decisions at ${t.camera}`}</caption>
          <thead>
            <tr>
              <th scope="col">Score</th>
              <th scope="col">Recognised</th>
              <th scope="col">Unknown</th>
            </tr>
          </thead>
          <tbody>
            {buckets.map((b) => (
              <tr key={b.from}>
                <th scope="row">{`${b.from.toFixed(2)} to ${(b.from + 0.05).toFixed(2)}`}</th>
                <td>
                  <Bar n={b.recognized} most={most} kind="recognized" />
                  {` ${b.recognized}`}
                </td>
                <td>
                  <Bar n={b.unknown} most={most} kind="unknown" />
                  {` ${b.unknown}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No decisions yet since the daemon started.</p>
      )}
      {admin && <ThresholdForm t={t} />}
    </section>
  );
}

function ThresholdForm({ t }: { t: Thresholds }) {
  const id = (what: string) => `th-${what}-${t.camera}`;
  const apply = (ev: Event) => {
    ev.preventDefault();
    void setThreshold(t.camera, { threshold: Number($<HTMLInputElement>(id('threshold')).value), margin: Number($<HTMLInputElement>(id('margin')).value) });
  };
  return (
    <form aria-label={`Change the thresholds of ${t.camera}`} onSubmit={apply}>
      <label for={id('threshold')}>Threshold</label>
      <input id={id('threshold')} type="number" min="-1" max="1" step="0.01" value={String(t.threshold)} required />
      <label for={id('margin')}>Margin</label>
      <input id={id('margin')} type="number" min="0" max="2" step="0.01" value={String(t.margin)} required />
      <button type="submit">{`Apply to ${t.camera}`}</button>
      <button type="button" onClick={() => void setThreshold(t.camera, null)}>{`Back to the config's for ${t.camera}`}</button>
    </form>
  );
}

async function setThreshold(camera: string, rules: { threshold: number; margin: number } | null): Promise<void> {
  try {
    const t = await api<Thresholds>(`/api/thresholds/${encodeURIComponent(camera)}`, { method: 'PUT', body: { rules } });
    await showThresholds();
    say(`${camera}: threshold ${t.threshold}, margin ${t.margin}, applied from the next decision.`);
  } catch (e) {
    sayFailure(e);
  }
}
