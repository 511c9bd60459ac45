/* Helpers for running the harness without a person: numeric URL parameters, pacing,
 * a seeded PRNG, and the "script finished" marker tests wait for. Loaded after wire.js.
 */
(function (harness) {
  "use strict";

  /** A finite number from the URL, clamped to [min, max]; the fallback when absent or junk. */
  function numberParam(name, fallback, min = 0, max = Number.MAX_SAFE_INTEGER) {
    const raw = harness.params.get(name);
    const value = raw === null || raw.trim() === "" ? NaN : Number(raw);
    if (!Number.isFinite(value)) return fallback;
    return Math.min(max, Math.max(min, value));
  }

  const speed = numberParam("speed", 120);

  /** Wait between scripted steps; speed=0 means do not wait at all. */
  function pause(ms = speed) {
    return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
  }

  /** mulberry32: tiny, fast, and the same sequence for the same seed in every browser. */
  function mulberry32(seed) {
    let a = seed >>> 0;
    return function next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** Run one script; always mark it done so a waiting test never hangs, and surface failures. */
  async function runScript(name, body) {
    const root = document.documentElement;
    root.dataset.script = name;
    try {
      await body();
    } catch (error) {
      root.dataset.scriptError = String(error && error.message ? error.message : error);
      console.error(`harness script ${name} failed:`, error);
    } finally {
      root.dataset.scriptDone = "true";
    }
  }

  /** Click like a person would: through the element's own click handling. */
  function click(element, what) {
    if (!element) throw new Error(`cannot find ${what}`);
    if (element.disabled) throw new Error(`${what} is disabled`);
    element.click();
  }

  Object.assign(harness, { numberParam, speed, pause, mulberry32, runScript, click });
})(window.harness);
