/* h(): build DOM nodes without innerHTML, so titles typed by a person are never parsed as HTML.
 *   h("button", { class: "btn", onclick: fn, disabled: true }, "Save")
 * Attributes named on* become listeners, true/false toggle boolean attributes, null/undefined
 * are skipped; children may be strings, nodes, arrays, or null.
 */
"use strict";

window.harness.h = function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name in element && typeof value !== "string") {
      element[name] = value; // properties such as checked, disabled, value given as non-strings
    } else {
      element.setAttribute(name, value === true ? "" : value);
    }
  }
  const append = (child) => {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(append);
    else element.append(child instanceof Node ? child : String(child));
  };
  children.forEach(append);
  return element;
};
