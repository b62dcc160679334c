// The audit page (admins): the newest entries of the audit log, and its hash chain verified on demand.
import { siteTime } from '../clock.js';
import { $, sayFailure } from '../dom.js';
import { draw } from '../draw.js';
import { api } from '../session.js';
import type { AuditEntry, AuditVerdict } from '../types.js';

export async function showAudit(): Promise<void> {
  const entries = await api<AuditEntry[]>('/api/audit?limit=200');
  draw(
    $('audit-rows'),
    entries.map((e) => (
      <tr key={e.seq}>
        <td>{String(e.seq)}</td>
        <td>{siteTime(e.at)}</td>
        <td>{e.actor}</td>
        <td>{e.role}</td>
        <td>{e.action}</td>
        <td>{e.target ?? ''}</td>
        <td>{e.outcome}</td>
      </tr>
    )),
  );
}

export async function verifyAudit(): Promise<void> {
  try {
    const v = await api<AuditVerdict>('/api/audit/verify');
    $('audit-verdict').textContent = v.ok ? `Chain intact: ${v.entries} entries.` : `Chain broken: ${v.problems.map((p) => p.message).join('; ')}`;
  } catch (e) {
    sayFailure(e);
  }
}
