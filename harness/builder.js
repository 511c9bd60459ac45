/* Simulated Coassemble course builder: a title, a list of screens, Save, Back, and buttons that
 * simulate an error and an expired session. Posts Coassemble builder events to the parent.
 *
 * URL parameters (details in README.md):
 *   origin=URL   parent origin to post to; same rule as the player (wire.js)
 *   script=NAME  author | expire | errors   (builder-scripts.js)
 *   speed=MS     delay between scripted steps (default 120; 0 = no delay)
 *   count=N      errors: how many session:error messages (default 3)
 *   seed=N       make the course id reproducible (default: random)
 * When a script is over: <html data-script-done="true">.
 *
 * Events posted (all JSON strings): session:ready on load; course:created {id,title} on the first
 * save, course:updated {id,title} on later saves; {type:"back"} (no event field);
 * session:error {message}; session:expired (after which editing is off).
 */
(function (harness) {
  "use strict";

  const { h } = harness;

  const state = { id: null, title: "", screens: [], expired: false, errors: 0, saves: 0 };

  const el = {
    back: document.getElementById("back"),
    save: document.getElementById("save"),
    editor: document.getElementById("editor"),
    title: document.getElementById("title"),
    titleError: document.getElementById("title-error"),
    screens: document.getElementById("screens"),
    noScreens: document.getElementById("no-screens"),
    add: document.getElementById("add"),
    saveState: document.getElementById("save-state"),
    error: document.getElementById("error"),
    expire: document.getElementById("expire"),
    expired: document.getElementById("expired"),
    expiredHeading: document.getElementById("expired-heading"),
  };

  const ERROR_MESSAGES = [
    "Autosave failed: the server did not answer in time",
    "Image upload failed: the file is larger than 10 MB",
    "Could not load the theme: network error",
    "Permission denied: you cannot edit this course",
    "Conflict: this course was changed in another tab",
  ];

  function emit(type, event, data) {
    const message = { type };
    if (event !== undefined) message.event = event;
    if (data !== undefined) message.data = data;
    harness.post(message);
  }

  // With ?seed=N the id is the same every run, for tests that compare ids.
  const seedParam = harness.params.get("seed");
  const nextRandom = seedParam !== null ? harness.mulberry32(Number(seedParam) || 0) : () => crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32;

  function newCourseId() {
    const digits = Array.from({ length: 8 }, () => Math.floor(nextRandom() * 36).toString(36)).join("");
    return `course-${digits}`;
  }

  // ---- Actions -------------------------------------------------------------------------

  function save() {
    if (state.expired) return;
    const title = state.title.trim();
    if (!title) {
      el.titleError.textContent = "Give the course a title before saving.";
      el.title.setAttribute("aria-invalid", "true");
      el.title.focus();
      return;
    }
    const first = state.id === null;
    if (first) state.id = newCourseId();
    state.saves += 1;
    emit("course", first ? "created" : "updated", { id: state.id, title });
    const screens = `${state.screens.length} screen${state.screens.length === 1 ? "" : "s"}`;
    el.saveState.textContent = `${first ? "Created" : "Saved"} “${title}” (${state.id}, ${screens}). Save ${state.saves}.`;
  }

  function addScreen() {
    if (state.expired) return;
    state.screens.push({ title: `Screen ${state.screens.length + 1}` });
    renderScreens();
    el.screens.lastElementChild.querySelector("input").focus();
  }

  function removeScreen(index) {
    state.screens.splice(index, 1);
    renderScreens();
    // Keep focus near where it was: the next row's Remove button, else Add screen.
    const removes = el.screens.querySelectorAll("button");
    (removes[Math.min(index, removes.length - 1)] || el.add).focus();
  }

  function simulateError() {
    if (state.expired) return;
    state.errors += 1;
    const base = ERROR_MESSAGES[(state.errors - 1) % ERROR_MESSAGES.length];
    const message = `${base} (simulated error ${state.errors})`;
    emit("session", "error", { message });
    el.saveState.textContent = `Sent session:error: ${message}`;
  }

  function expire() {
    if (state.expired) return;
    state.expired = true;
    emit("session", "expired");
    // inert: no focus, no clicks, no typing inside the editor; Back stays usable.
    el.editor.inert = true;
    el.save.disabled = true;
    el.expired.hidden = false;
    el.expiredHeading.focus();
  }

  // ---- Rendering -----------------------------------------------------------------------

  function renderScreens() {
    el.screens.replaceChildren(
      ...state.screens.map((screen, i) => {
        const input = h("input", {
          class: "text-input",
          type: "text",
          value: screen.title,
          "aria-label": `Screen ${i + 1} title`,
          oninput: () => {
            screen.title = input.value;
          },
        });
        return h(
          "li",
          { class: "screen-row" },
          input,
          h("button", { class: "btn", type: "button", "aria-label": `Remove screen ${i + 1}`, onclick: () => removeScreen(i) }, "Remove")
        );
      })
    );
    el.noScreens.hidden = state.screens.length > 0;
  }

  // ---- What scripts may do: the same clicks and typing an author does -------------------

  const author = {
    get state() {
      return state;
    },
    type(text) {
      el.title.value = text;
      el.title.dispatchEvent(new Event("input", { bubbles: true }));
    },
    save: () => harness.click(el.save, "the Save button"),
    addScreen: () => harness.click(el.add, "the Add screen button"),
    back: () => harness.click(el.back, "the Back button"),
    simulateError: () => harness.click(el.error, "the Simulate error button"),
    expire: () => harness.click(el.expire, "the Expire session button"),
  };

  // ---- Start ---------------------------------------------------------------------------

  el.title.addEventListener("input", () => {
    state.title = el.title.value;
    if (state.title.trim()) {
      el.titleError.textContent = "";
      el.title.removeAttribute("aria-invalid");
    }
  });
  el.save.addEventListener("click", save);
  el.add.addEventListener("click", addScreen);
  el.back.addEventListener("click", () => emit("back"));
  el.error.addEventListener("click", simulateError);
  el.expire.addEventListener("click", expire);

  harness.builder = { state, author };
  harness.mountStatus(document.getElementById("status"), document.getElementById("warning"));
  renderScreens();
  // Nothing is editable until the session is known to be good.
  el.editor.inert = true;
  el.save.disabled = true;
  harness.session.start({
    onReady() {
      el.editor.inert = false;
      el.save.disabled = false;
      emit("session", "ready");
      const scriptName = harness.params.get("script");
      if (scriptName) harness.builderScripts.start(scriptName, author);
    },
    onRefused(message) {
      emit("session", "error", { message });
      state.expired = true; // every action is off, as after an expiry
      harness.session.showNotice(el.editor.parentElement, "This editing session cannot start", message);
    },
    // The same as the "Expire session" button: session:expired, editing off, Back still works.
    onExpired: expire,
  });
})(window.harness);
