/** A few lines of DOM building: elements with attributes, listeners and children, text always as text. */
export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function apply(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value as EventListener);
    else if (name === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

export function replace(target: Element, ...children: Child[]): void {
  target.replaceChildren();
  append(target, children);
}

let counter = 0;
export const uid = (prefix: string) => `${prefix}-${++counter}`;

export const fmtDate = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '—');

/** Highlights what differs between two values: the middle part after the common prefix and before the common suffix. */
export function diffMarked(value: string, other: string): Child[] {
  if (value === other) return [value];
  let start = 0;
  while (start < value.length && start < other.length && value[start] === other[start]) start++;
  let end = 0;
  while (end < value.length - start && end < other.length - start && value[value.length - 1 - end] === other[other.length - 1 - end]) end++;
  const middle = value.slice(start, value.length - end);
  return [value.slice(0, start), middle ? h('mark', { class: 'diff' }, middle) : h('mark', { class: 'diff missing' }, '∅'), value.slice(value.length - end)];
}
