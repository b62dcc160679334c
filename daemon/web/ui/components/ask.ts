// The page's one prompt: index.html's modal <dialog id="ask">, filled for each question.
import { $ } from '../dom.js';

export interface Question {
  title: string;
  text: string;
  label: string;
  value?: string;
  ok: string;
  /** Keeps OK from sending an empty value. */
  required?: boolean;
}

/**
 * Asks for one value in the page's modal dialog (focus kept inside, Escape cancels): the typed
 * value, or null when cancelled.
 */
export function ask({ title, text, label, value = '', ok, required = true }: Question): Promise<string | null> {
  const dialog = $<HTMLDialogElement>('ask');
  $('ask-title').textContent = title;
  $('ask-text').textContent = text;
  $('ask-label').textContent = label;
  $('ask-ok').textContent = ok;
  const input = $<HTMLInputElement>('ask-input');
  input.value = value;
  input.required = required;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' ? input.value.trim() : null), { once: true });
    dialog.showModal();
    input.select();
  });
}
