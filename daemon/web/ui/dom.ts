// The page's fixed parts (index.html) by id, and the status line every page speaks through.

/** An element of index.html; its absence is a bug of the page, said at once. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

/** An input of index.html, trimmed. */
export const valueOf = (id: string): string => $<HTMLInputElement>(id).value.trim();

/** The status line: plain text, left to the page's own assignments (tests clear it by hand too). */
export function say(text: string): void {
  $('status').textContent = text;
}

/** The query a filter form asks for: each field's trimmed value under its key, the empty ones left out. */
export function filterQuery(fields: readonly (readonly [key: string, id: string])[]): URLSearchParams {
  const q = new URLSearchParams();
  for (const [key, id] of fields) {
    const v = $<HTMLInputElement | HTMLSelectElement>(id).value.trim();
    if (v) q.set(key, v);
  }
  return q;
}

export const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Says what went wrong instead of leaving a rejected promise unseen. */
export const sayFailure = (e: unknown): void => say(message(e));
