// Small DOM helpers: one element builder, no framework.

const PROPERTIES = new Set(["value", "checked", "hidden", "disabled", "textContent", "selected"]);

/** h("div", {class: "x", onclick: f}, child, ...): an element with attributes, listeners
 * and children (strings become text, null and false are left out). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Replace an element's children (strings become text, null and false are left out). */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A label that opens its (hidden) file input from the keyboard too. */
export function keyboardPicker(label, input) {
  label.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      input.click();
    }
  });
}

/** A zone that takes a dropped file: highlighted while one is over it, ``onFiles`` called
 * with the dropped FileList. */
export function dropZone(zone, onFiles) {
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) onFiles(e.dataTransfer.files);
  });
}
