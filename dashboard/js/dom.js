// Tiny DOM helpers: elements are built from data, never from HTML strings, so
// nothing a store name or an event message contains can become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// An icon from a small inline set; decorative, so hidden from screen readers.
const PATHS = {
  check: "M5 12.5 10 17l9-10",
  cross: "M6 6l12 12M18 6 6 18",
  dot: "M12 12h.01",
  warn: "M12 4 2.5 20h19zM12 10v4M12 17h.01",
  retry: "M20 11a8 8 0 1 0-2.3 5.7M20 5v6h-6",
  cube: "M4 8.5 12 4l8 4.5v7L12 20l-8-4.5zM4 8.5 12 13l8-4.5M12 13v7",
  arrow: "M15 18 9 12l6-6",
  external: "M14 4h6v6M20 4l-9 9M18 14v5H5V6h5",
  copy: "M9 9h10v10H9zM5 15V5h10",
  eye: "M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12zM12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z",
};

export function icon(name, size = 16) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", size);
  svg.setAttribute("height", size);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon icon-${name}`);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", PATHS[name] || PATHS.dot);
  svg.append(path);
  return svg;
}
