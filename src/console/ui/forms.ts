/**
 * Form fields with their label, help and error slot, and the one place an API refusal is shown: next to
 * the field it names (details.field), or above the form. Errors carry a sign and words, never colour alone.
 */
import { ApiError } from './api.js';
import { type Child, h, replace, uid } from './dom.js';

export interface Field {
  name: string;
  wrap: HTMLElement;
  control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
  error: HTMLElement;
}

export function field(label: string, control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, options: { name: string; help?: string; aliases?: string[] }): Field {
  const id = control.id || uid(options.name);
  control.id = id;
  control.name = options.name;
  const errorId = `${id}-error`;
  const helpId = `${id}-help`;
  const error = h('p', { class: 'field-error', id: errorId, 'aria-live': 'polite' });
  control.setAttribute('aria-describedby', options.help ? `${helpId} ${errorId}` : errorId);
  const wrap = h(
    'div',
    { class: 'field', 'data-field': [options.name, ...(options.aliases ?? [])].join(' ') },
    h('label', { for: id }, label),
    options.help ? h('p', { class: 'help', id: helpId }, options.help) : null,
    control,
    error,
  );
  return { name: options.name, wrap, control, error };
}

export const input = (attrs: Record<string, unknown> = {}) => h('input', { type: 'text', autocomplete: 'off', ...attrs });
export const textarea = (attrs: Record<string, unknown> = {}) => h('textarea', { rows: 6, spellcheck: 'false', ...attrs });
export function select(options: (string | [string, string])[], attrs: Record<string, unknown> = {}): HTMLSelectElement {
  return h('select', attrs, ...options.map((o) => (Array.isArray(o) ? h('option', { value: o[0] }, o[1]) : h('option', { value: o }, o))));
}

export function clearErrors(form: HTMLElement): void {
  for (const el of form.querySelectorAll('.field-error, .form-error')) replace(el);
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

function errorContent(err: ApiError): Child[] {
  return [
    h('span', { class: 'sign', 'aria-hidden': 'true' }, '⚠ '),
    h('strong', {}, 'Refused: '),
    err.message,
    err.hint ? h('span', { class: 'hint' }, ` Fix: ${err.hint}`) : null,
    ' ',
    h('code', { class: 'code' }, err.code),
  ];
}

/** Shows an error next to the field it concerns (by the API's field name, last path segment included), or at the top of the form. */
export function showError(form: HTMLElement, err: unknown): void {
  const e = err instanceof ApiError ? err : new ApiError(0, 'ERR_CONSOLE', (err as Error).message ?? String(err), undefined, undefined);
  const names = e.field ? [e.field, e.field.split('.').pop()!] : [];
  const wrap = names.map((n) => form.querySelector<HTMLElement>(`[data-field~="${CSS.escape(n)}"]`)).find(Boolean);
  if (wrap) {
    const slot = wrap.querySelector('.field-error')!;
    replace(slot, ...errorContent(e));
    wrap.querySelector('input, textarea, select')?.setAttribute('aria-invalid', 'true');
    (wrap.querySelector('input, textarea, select') as HTMLElement | null)?.focus();
    return;
  }
  const top = form.querySelector('.form-error');
  if (top) replace(top, ...errorContent(e));
}

export function formError(): HTMLElement {
  return h('div', { class: 'form-error', role: 'alert' });
}

/** A button that asks once more before doing something that cannot be undone (no browser dialog). */
export function confirmButton(label: string, question: string, action: () => Promise<void>, disabledReason?: string): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'danger' }, label);
  writeControl(b, disabledReason);
  let armed = false;
  b.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      b.textContent = question;
      return;
    }
    b.disabled = true;
    try {
      await action();
    } finally {
      b.disabled = false;
      armed = false;
      b.textContent = label;
    }
  });
  return b;
}

/** A write control of a read-only administrator: disabled, with the reason said in words. */
export function writeControl(el: HTMLButtonElement | HTMLInputElement, disabledReason: string | undefined): void {
  if (!disabledReason) return;
  el.disabled = true;
  el.title = disabledReason;
  el.setAttribute('aria-disabled', 'true');
}
