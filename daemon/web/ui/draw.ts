// Preact renders the page's lists into the containers index.html holds (tbody, ul, div).
import { render, type ComponentChild } from 'preact';

/**
 * Draws `content` into `container` afresh, as each page drew its lists from the API's answer: the
 * previous drawing is unmounted first (its object URLs revoked, its timers stopped), so a container
 * emptied from outside is never diffed against nodes that are gone.
 */
export function draw(container: Element, content: ComponentChild): void {
  render(null, container);
  render(content, container);
}

/** Empties a container Preact drew into, unmounting what it drew. */
export function clear(container: Element): void {
  render(null, container);
  container.replaceChildren();
}
