/* Load generators for hostile and performance tests of the host. In these modes the player shows
 * a status panel instead of the course, so the parent sees session:ready and then only this load.
 *
 *   script=noisy&seed=N&count=N  a reproducible mix (same seed, same messages) of valid events,
 *                                duplicates, lower progress, unknown events, malformed messages and
 *                                objects posted without JSON.stringify; paced by speed.
 *   burst=N                      N valid course:progress in one synchronous loop:
 *                                message i (0-based) has progress floor((i+1)*100/N), seq i+1.
 *   rate=R&count=N               N course:progress at R per second, each with seq and sentAt
 *                                (performance.timeOrigin + performance.now(), float ms).
 *   delay=MS                     wait before starting (default 0).
 *
 * Records on window.harness:
 *   noise            [{value, kind, valid}] for every noisy message, in order sent
 *   validAnswers     [{type:"screen",event:"answer",data}] for every valid screen:answer sent by
 *                    noisy, duplicates and non-stringified ones included (a host should accept them)
 *   maxValidProgress the highest progress among valid noisy messages (what a host should show)
 *   burstStartedAt   epoch ms just before the burst loop
 */
(function (harness) {
  "use strict";

  const { h } = harness;

  function modeFor(params) {
    if (params.get("script") === "noisy") return "noisy";
    if (params.has("burst")) return "burst";
    if (params.has("rate")) return "rate";
    return null;
  }

  const progress = (value, extra) => ({ type: "course", event: "progress", data: { progress: value, ...extra } });

  // ---- noisy --------------------------------------------------------------------------

  // Kinds of message and how often each is drawn. Valid kinds come first.
  const VALID_KINDS = new Set(["valid", "duplicate", "lower-progress", "object"]);
  const WEIGHTS = [
    ["valid", 30],
    ["duplicate", 8],
    ["lower-progress", 6],
    ["object", 8],
    ["unknown-event", 6],
    ["non-json", 6],
    ["json-array", 4],
    ["json-scalar", 4],
    ["missing-type", 4],
    ["data-not-object", 6],
    ["bad-progress", 10],
  ];

  const UNKNOWN_EVENTS = [
    { type: "course", event: "teleport" },
    { type: "course", event: "teleport", data: { to: "screen-99" } },
    { type: "wormhole", event: "open", data: {} },
    { type: "screen", event: "explode", data: { id: "why-passwords-matter" } },
  ];
  const NON_JSON = ["", "not json", '{"type":"course"', "course:progress", "undefined", "<b>progress</b>", "{'type':'course'}"];
  const JSON_ARRAYS = ["[]", "[1,2,3]", JSON.stringify([progress(100)])];
  const JSON_SCALARS = ["42", "100", "null", "true", '"course:progress"'];
  const MISSING_TYPE = [
    { event: "progress", data: { progress: 100 } },
    { event: "completed", data: { progress: 100, completed: true } },
    { data: { progress: 50 } },
  ];
  const DATA_NOT_OBJECT = [
    { type: "course", event: "progress", data: "100" },
    { type: "course", event: "progress", data: [100] },
    { type: "course", event: "progress", data: null },
    { type: "screen", event: "answer", data: "correct" },
    { type: "screen", event: "answer", data: null },
    { type: "course", event: "feedback", data: 5 },
  ];
  // Values a host must not display as progress. The raw strings are not valid JSON for a
  // browser, but Python's json.loads accepts NaN/Infinity, and 1e400 parses to infinity.
  const BAD_PROGRESS = [
    JSON.stringify(progress("NaN")),
    JSON.stringify(progress("Infinity")),
    JSON.stringify(progress(-5)),
    JSON.stringify(progress(150)),
    JSON.stringify(progress(1e30)),
    JSON.stringify(progress("12345678901234567890")),
    JSON.stringify(progress(2147483648)),
    JSON.stringify(progress(1099511627776)),
    JSON.stringify(progress(null)),
    JSON.stringify(progress(true)),
    '{"type":"course","event":"progress","data":{"progress":NaN}}',
    '{"type":"course","event":"progress","data":{"progress":Infinity}}',
    '{"type":"course","event":"progress","data":{"progress":-Infinity}}',
    '{"type":"course","event":"progress","data":{"progress":12345678901234567890}}',
    '{"type":"course","event":"progress","data":{"progress":1e400}}',
  ];

  /** The whole noisy sequence for a seed, computed up front so it is reproducible. */
  function noisyMessages(seed, count) {
    const random = harness.mulberry32(seed);
    const int = (n) => Math.floor(random() * n);
    const pick = (list) => list[int(list.length)];
    const totalWeight = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);
    const drawKind = () => {
      let r = int(totalWeight);
      for (const [kind, weight] of WEIGHTS) {
        if ((r -= weight) < 0) return kind;
      }
      return "valid";
    };

    const screens = harness.course.screens;
    const describe = (s) => ({ id: s.id, title: s.title, index: screens.indexOf(s), type: s.type });
    const questions = screens.flatMap((s) => {
      if (s.type === "scored-quiz") return s.questions.map((q) => ({ screen: s, ...q, correct: [q.correct], multiple: false }));
      if (s.type === "single-choice" || s.type === "multiple-choice") {
        return [{ screen: s, question: s.question, options: s.options, correct: s.correct, points: 1, multiple: s.type === "multiple-choice" }];
      }
      return [];
    });
    const feedback = screens.find((s) => s.type === "feedback");

    let top = 0; // highest valid progress so far
    let last = null; // last valid entry, for duplicates

    function validMessage() {
      const roll = int(10);
      if (roll < 3 && top < 100) {
        top = Math.min(100, top + 1 + int(12));
        return progress(top);
      }
      if (roll < 7) {
        const q = pick(questions);
        let chosen = q.multiple ? q.options.map((_, i) => i).filter(() => random() < 0.5) : [];
        if (chosen.length === 0) chosen = [int(q.options.length)]; // the player never sends an empty answer
        const correct = chosen.join() === q.correct.join();
        const texts = chosen.map((i) => q.options[i]);
        return {
          type: "screen",
          event: "answer",
          data: {
            id: q.screen.id,
            title: q.screen.title,
            question: q.question,
            answer: q.multiple ? texts : texts[0],
            correct,
            score: correct ? q.points : 0,
            attempt: 1 + int(3),
          },
        };
      }
      if (roll < 9) return { type: "screen", event: pick(["start", "end", "complete"]), data: describe(pick(screens)) };
      const rating = 1 + int(5);
      return { type: "course", event: "feedback", data: { rating, value: feedback.labels[rating - 1] } };
    }

    const entries = [];
    while (entries.length < count) {
      let kind = drawKind();
      if (kind === "duplicate" && !last) kind = "valid";
      if (kind === "lower-progress" && top === 0) kind = "valid";
      let entry;
      switch (kind) {
        case "valid": {
          const message = validMessage();
          entry = { value: JSON.stringify(message), message };
          break;
        }
        case "object": {
          const message = validMessage();
          entry = { value: message, message }; // not stringified: hosts should tolerate objects
          break;
        }
        case "duplicate":
          entry = { value: last.value, message: last.message };
          break;
        case "lower-progress": {
          const message = progress(int(top));
          entry = { value: JSON.stringify(message), message };
          break;
        }
        case "unknown-event":
          entry = { value: JSON.stringify(pick(UNKNOWN_EVENTS)) };
          break;
        case "non-json":
          entry = { value: pick(NON_JSON) };
          break;
        case "json-array":
          entry = { value: pick(JSON_ARRAYS) };
          break;
        case "json-scalar":
          entry = { value: pick(JSON_SCALARS) };
          break;
        case "missing-type":
          entry = { value: JSON.stringify(pick(MISSING_TYPE)) };
          break;
        case "data-not-object":
          entry = { value: JSON.stringify(pick(DATA_NOT_OBJECT)) };
          break;
        default:
          entry = { value: pick(BAD_PROGRESS) };
      }
      entry.kind = kind;
      entry.valid = VALID_KINDS.has(kind);
      if (entry.valid) last = entry;
      entries.push(entry);
    }
    return entries;
  }

  async function runNoisy(report) {
    const seed = Math.floor(harness.numberParam("seed", 1, 0, 2 ** 32 - 1));
    const count = Math.floor(harness.numberParam("count", 200, 0, 1e6));
    Object.assign(harness, { noise: [], validAnswers: [], maxValidProgress: 0 });
    for (const entry of noisyMessages(seed, count)) {
      harness.postRaw(entry.value);
      harness.noise.push({ value: entry.value, kind: entry.kind, valid: entry.valid });
      const message = entry.valid ? entry.message : null;
      if (message && message.event === "answer") harness.validAnswers.push(message);
      if (message && message.event === "progress") {
        harness.maxValidProgress = Math.max(harness.maxValidProgress, message.data.progress);
      }
      report(harness.noise.length, count);
      await harness.pause();
    }
  }

  // ---- burst and steady stream ---------------------------------------------------------

  function runBurst(report) {
    const n = Math.floor(harness.numberParam("burst", 0, 0, 1e7));
    harness.burstStartedAt = performance.timeOrigin + performance.now();
    for (let i = 0; i < n; i++) {
      harness.post(progress(Math.floor(((i + 1) * 100) / n), { seq: i + 1 }));
    }
    report(n, n);
  }

  function runStream(report) {
    const rate = harness.numberParam("rate", 0, 0, 1e6);
    const count = Math.floor(harness.numberParam("count", 200, 0, 1e7));
    if (!(rate > 0)) return Promise.reject(new Error("rate must be a number above 0"));
    const interval = 1000 / rate;
    const start = performance.now();
    let seq = 0;
    return new Promise((resolve) => {
      function tick() {
        // Timers run late, never on a grid: send everything that is due, then aim at the next
        // due time measured from the start, so lateness never accumulates.
        const now = performance.now();
        while (seq < count && start + seq * interval <= now) {
          seq += 1;
          harness.post(progress(Math.floor((seq * 100) / count), { seq, sentAt: performance.timeOrigin + performance.now() }));
        }
        report(seq, count);
        if (seq >= count) return resolve();
        setTimeout(tick, Math.max(0, start + seq * interval - performance.now()));
      }
      tick();
    });
  }

  const RUNNERS = { noisy: runNoisy, burst: runBurst, rate: runStream };
  const DESCRIPTIONS = {
    noisy: "Posting a seeded, reproducible mix of valid, duplicate and malformed messages.",
    burst: "Posting course:progress messages in one synchronous loop.",
    rate: "Posting a steady stream of course:progress messages.",
  };

  function start(mode, screenEl, navEl) {
    const counter = h("p", { class: "load-count", role: "status" }, "Waiting to start…");
    const settings = [...harness.params.entries()].filter(([name]) => name !== "origin");
    navEl.hidden = true;
    document.body.dataset.mode = "load";
    screenEl.dataset.screenType = "load";
    screenEl.replaceChildren(
      h("p", { class: "eyebrow" }, "Test mode"),
      h("h2", {}, "Load generator"),
      h("p", { class: "lead" }, DESCRIPTIONS[mode]),
      h("dl", { class: "summary" }, settings.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
      counter
    );
    // Redraw at most once a frame: a burst reports thousands of times in one task.
    let queued = false;
    let finished = false;
    let latest = [0, 0];
    const draw = () => {
      queued = false;
      counter.textContent = `${finished ? "Done: sent" : "Sent"} ${latest[0]} of ${latest[1]}`;
    };
    const report = (done, total) => {
      latest = [done, total];
      if (!queued) {
        queued = true;
        requestAnimationFrame(draw);
      }
    };
    const delay = harness.numberParam("delay", 0);
    harness.runScript(mode, async () => {
      await harness.pause(delay);
      await RUNNERS[mode](report);
      finished = true;
      draw();
    });
  }

  harness.load = { modeFor, start, noisyMessages };
})(window.harness);
