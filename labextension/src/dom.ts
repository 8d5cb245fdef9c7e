/** Small DOM helpers for the widgets. */

type Child = Node | string | null | undefined | false;

/** Create an element with classes, attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; title?: string; attrs?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) {
    el.className = props.class;
  }
  if (props.title) {
    el.title = props.title;
  }
  for (const [k, v] of Object.entries(props.attrs ?? {})) {
    el.setAttribute(k, v);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    el.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

/** A lab-styled button that runs `onClick` without bubbling to its row. */
export function button(
  label: string,
  title: string,
  onClick: () => void,
  extraClass = ''
): HTMLButtonElement {
  const el = h('button', {
    class: `jp-Button jp-mod-styled qrt-Button ${extraClass}`.trim(),
    title,
    attrs: { type: 'button' }
  }, label);
  el.addEventListener('click', event => {
    event.stopPropagation();
    onClick();
  });
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Create an SVG element with attributes. */
export function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    el.setAttribute(k, String(v));
  }
  return el;
}

/** Attribute that identifies what an element shows; a different key means a different element. */
const KEY_ATTRS = ['data-job-id', 'data-session-id', 'data-key'];

function sameKind(a: Node, b: Node): boolean {
  if (a.nodeType !== b.nodeType || a.nodeName !== b.nodeName) {
    return false;
  }
  if (a instanceof Element && b instanceof Element) {
    return KEY_ATTRS.every(k => a.getAttribute(k) === b.getAttribute(k));
  }
  return true;
}

/**
 * Make `target`'s children look like `source`'s, keeping the elements that
 * show the same thing (same tag and key), so that a button under the mouse
 * survives a refresh and its click is not lost. Elements kept keep their
 * event listeners, so listeners must only depend on the element's key.
 */
export function patchChildren(target: Node, source: Node): void {
  const fresh = Array.from(source.childNodes);
  const old = Array.from(target.childNodes);
  fresh.forEach((node, i) => {
    const current = old[i];
    if (current === undefined) {
      target.appendChild(node);
    } else if (!sameKind(current, node)) {
      target.replaceChild(node, current);
    } else if (current.nodeType === Node.TEXT_NODE) {
      if (current.nodeValue !== node.nodeValue) {
        current.nodeValue = node.nodeValue;
      }
    } else if (current instanceof Element && node instanceof Element) {
      for (const attr of Array.from(current.attributes)) {
        if (!node.hasAttribute(attr.name)) {
          current.removeAttribute(attr.name);
        }
      }
      for (const attr of Array.from(node.attributes)) {
        if (current.getAttribute(attr.name) !== attr.value) {
          current.setAttribute(attr.name, attr.value);
        }
      }
      patchChildren(current, node);
    }
  });
  for (let i = old.length - 1; i >= fresh.length; i--) {
    target.removeChild(old[i]);
  }
}
