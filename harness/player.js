/* Simulated Coassemble course player: renders harness.course, posts Coassemble events to the
 * parent, and hands a click-level API to the scripts in player-scripts.js.
 *
 * URL parameters (details in README.md):
 *   origin=URL        parent origin to post to. Default: location.ancestorOrigins[0], else the
 *                     origin of document.referrer, else nothing is posted (a warning is shown).
 *                     origin=* only when given explicitly (for a test of exactly that).
 *   script=NAME       perfect | fail-then-pass | abandon-halfway   drive the course by clicking
 *                     noisy                                        hostile mix of messages (load.js)
 *   speed=MS          delay between scripted steps or noisy messages (default 120; 0 = no delay)
 *   seed=N            noisy: PRNG seed (default 1)
 *   count=N           noisy: messages (default 200); rate: messages in the stream (default 200)
 *   burst=N           post N course:progress messages in one synchronous loop (load.js)
 *   rate=R            post count course:progress messages at R per second (load.js)
 *   delay=MS          burst, rate and noisy: wait MS after session:ready before starting (default 0)
 * When a script, burst or stream is over: <html data-script-done="true">.
 *
 * Events posted (all JSON strings): session:ready; course:start {id}; screen:start|end|complete
 * {id,title,index,type} (index is 0-based); screen:answer {id,title,question,answer,correct,score,
 * attempt}; screen:failed {id,title,score,passMark,attempt}; screen:retry {id,title,attempt};
 * course:progress {progress} (only when it rises); course:feedback {rating,value};
 * course:completed {progress:100,completed:true}.
 */
(function (harness) {
  "use strict";

  const { h, course } = harness;
  const screens = course.screens;
  const CONTENT_TYPES = new Set(["text", "media", "feedback"]); // complete as soon as they are seen
  const TYPE_LABELS = {
    text: "Lesson",
    media: "Video",
    "single-choice": "Question",
    "multiple-choice": "Question",
    "scored-quiz": "Quiz",
    feedback: "Feedback",
  };

  const state = {
    index: -1, // -1 before the first screen and on the completion view
    started: false,
    finished: false,
    completed: new Set(),
    progress: 0,
    quizzes: {}, // per screen id: answers, attempt, result; kept so Back shows what was done
    rating: null,
  };

  const el = {
    screen: document.getElementById("screen"),
    counter: document.getElementById("counter"),
    bar: document.getElementById("progress-bar"),
    barFill: document.getElementById("progress-fill"),
    barText: document.getElementById("progress-text"),
    back: document.getElementById("back"),
    next: document.getElementById("next"),
    nav: document.getElementById("nav"),
  };

  // ---- Events --------------------------------------------------------------------------

  function emit(type, event, data) {
    harness.post(data === undefined ? { type, event } : { type, event, data });
  }

  function describe(screen) {
    return { id: screen.id, title: screen.title, index: screens.indexOf(screen), type: screen.type };
  }

  function completeScreen(screen) {
    if (state.completed.has(screen.id)) return;
    state.completed.add(screen.id);
    emit("screen", "complete", describe(screen));
    // Coassemble's progress only ever rises, whatever the learner revisits.
    const progress = Math.floor((state.completed.size * 100) / screens.length);
    if (progress > state.progress) {
      state.progress = progress;
      emit("course", "progress", { progress });
    }
    renderChrome();
  }

  function answer(screen, fields) {
    emit("screen", "answer", { id: screen.id, title: screen.title, ...fields });
  }

  // ---- Navigation ----------------------------------------------------------------------

  function go(index, { focus = true } = {}) {
    const leaving = screens[state.index];
    if (leaving) emit("screen", "end", describe(leaving));
    if (!state.started) {
      state.started = true;
      emit("course", "start", { id: course.id });
      harness.session.track("commenced");
    }
    state.index = index;
    const screen = screens[index];
    emit("screen", "start", describe(screen));
    renderScreen(screen);
    if (CONTENT_TYPES.has(screen.type)) completeScreen(screen);
    renderChrome();
    if (focus) el.screen.querySelector("h2").focus();
  }

  function finish() {
    const leaving = screens[state.index];
    if (leaving) emit("screen", "end", describe(leaving));
    state.index = -1;
    if (!state.finished) {
      state.finished = true;
      emit("course", "completed", { progress: 100, completed: true });
      harness.session.track("completed");
    }
    renderCompletion();
    renderChrome();
    el.screen.querySelector("h2").focus();
  }

  function onNext() {
    if (state.index === screens.length - 1) finish();
    else go(state.index + 1);
  }

  function onBack() {
    if (state.index > 0) go(state.index - 1);
  }

  // ---- Rendering: frame ----------------------------------------------------------------

  function renderChrome() {
    const onCompletion = state.index === -1;
    const current = screens[state.index];
    el.counter.textContent = onCompletion ? "Course complete" : `Screen ${state.index + 1} of ${screens.length}`;
    el.bar.setAttribute("aria-valuenow", String(state.progress));
    el.barFill.style.width = `${state.progress}%`;
    el.barText.textContent = `${state.progress}% complete`;
    el.nav.hidden = onCompletion;
    if (onCompletion) return;
    el.back.disabled = state.index === 0;
    el.next.disabled = !state.completed.has(current.id);
    el.next.textContent = state.index === screens.length - 1 ? "Finish course" : "Next";
  }

  function screenShell(screen, ...body) {
    return [
      h("p", { class: "eyebrow" }, TYPE_LABELS[screen.type]),
      h("h2", { tabindex: "-1" }, screen.title),
      ...body,
    ];
  }

  function renderScreen(screen) {
    const render = RENDERERS[screen.type];
    el.screen.replaceChildren(...screenShell(screen, render(screen)));
    el.screen.dataset.screenType = screen.type;
    el.screen.dataset.screenId = screen.id;
    el.screen.scrollTop = 0;
  }

  // ---- Rendering: screens --------------------------------------------------------------

  function textScreen(screen) {
    return h(
      "div",
      { class: "prose" },
      screen.paragraphs.map((text) => h("p", {}, text)),
      h("ul", { class: "keypoints" }, screen.points.map((text) => h("li", {}, text)))
    );
  }

  function mediaScreen(screen) {
    // An inline "video": no media files, so the harness stays tiny and offline.
    const play = h("button", { class: "video-play", type: "button", "aria-pressed": "false" }, "Play video");
    const video = h(
      "figure",
      { class: "video" },
      markup("div", "video-frame", VIDEO_SVG),
      h(
        "div",
        { class: "video-controls" },
        play,
        h("div", { class: "video-track", "aria-hidden": "true" }, h("div", { class: "video-elapsed" })),
        h("span", { class: "video-time" }, screen.duration)
      ),
      h("figcaption", {}, screen.caption)
    );
    play.addEventListener("click", () => {
      const playing = video.classList.toggle("playing");
      play.setAttribute("aria-pressed", String(playing));
      play.textContent = playing ? "Pause video" : "Play video";
    });
    return h("div", { class: "stack" }, video, h("p", { class: "transcript" }, h("strong", {}, "Transcript: "), screen.transcript));
  }

  /** An element holding one of the constant SVG drawings below (never user text). */
  function markup(tag, className, svg) {
    const element = h(tag, { class: className });
    element.innerHTML = svg;
    return element;
  }

  function quizState(screen, initial) {
    if (!state.quizzes[screen.id]) state.quizzes[screen.id] = initial();
    return state.quizzes[screen.id];
  }

  function choiceScreen(screen) {
    const multiple = screen.type === "multiple-choice";
    const quiz = quizState(screen, () => ({ attempt: 1, selected: [], done: false, note: "", tone: "" }));
    const inputs = screen.options.map((text, i) =>
      h("input", {
        type: multiple ? "checkbox" : "radio",
        name: screen.id,
        value: String(i),
        onchange: () => {
          quiz.selected = inputs.filter((input) => input.checked).map((input) => Number(input.value));
        },
      })
    );
    const check = h("button", { class: "btn btn-primary", type: "button", "data-action": "check" }, "Check answer");
    const note = h("p", { class: "note", role: "status" });

    function sync() {
      inputs.forEach((input, i) => {
        input.checked = quiz.selected.includes(i);
        input.disabled = quiz.done;
      });
      check.disabled = quiz.done;
      note.textContent = quiz.note;
      note.dataset.tone = quiz.tone;
    }

    check.addEventListener("click", () => {
      if (quiz.selected.length === 0) {
        Object.assign(quiz, { note: multiple ? "Select at least one answer first." : "Choose an answer first.", tone: "info" });
        return sync();
      }
      const chosen = [...quiz.selected].sort((a, b) => a - b);
      const correct = chosen.join() === [...screen.correct].sort((a, b) => a - b).join();
      const texts = chosen.map((i) => screen.options[i]);
      answer(screen, {
        question: screen.question,
        answer: multiple ? texts : texts[0],
        correct,
        score: correct ? 1 : 0,
        attempt: quiz.attempt,
      });
      if (correct) {
        Object.assign(quiz, { done: true, note: `Correct. ${screen.explanation}`, tone: "good" });
        sync();
        completeScreen(screen);
        el.next.focus();
      } else {
        quiz.attempt += 1;
        Object.assign(quiz, { note: "Not quite. Have another look and try again.", tone: "bad" });
        sync();
      }
    });

    sync();
    return h(
      "div",
      { class: "stack" },
      h(
        "fieldset",
        { class: "question" },
        h("legend", {}, screen.question, multiple ? h("span", { class: "hint" }, " Select all that apply.") : null),
        inputs.map((input, i) => h("label", { class: "option" }, input, h("span", {}, screen.options[i])))
      ),
      h("div", { class: "actions" }, check),
      note
    );
  }

  function scoredScreen(screen) {
    const quiz = quizState(screen, () => ({ attempt: 1, picks: {}, result: null }));
    const total = screen.questions.reduce((sum, q) => sum + q.points, 0);
    const groups = screen.questions.map((q, qi) => {
      const inputs = q.options.map((text, oi) =>
        h("input", {
          type: "radio",
          name: `${screen.id}-q${qi}`,
          value: String(oi),
          onchange: () => {
            quiz.picks[qi] = oi;
            const correct = oi === q.correct;
            answer(screen, {
              question: q.question,
              answer: text,
              correct,
              score: correct ? q.points : 0,
              attempt: quiz.attempt,
            });
          },
        })
      );
      const mark = h("span", { class: "mark" });
      const fieldset = h(
        "fieldset",
        { class: "question", "data-question": String(qi) },
        h("legend", {}, h("span", { class: "qnum" }, `${qi + 1}.`), " ", q.question, " ", mark),
        inputs.map((input, oi) => h("label", { class: "option" }, input, h("span", {}, q.options[oi])))
      );
      return { q, inputs, mark, fieldset };
    });
    const submit = h("button", { class: "btn btn-primary", type: "button", "data-action": "submit" }, "Submit answers");
    const retry = h("button", { class: "btn", type: "button", "data-action": "retry" }, "Retry quiz");
    const note = h("p", { class: "note", role: "status" });

    function sync() {
      const locked = quiz.result !== null;
      for (const [qi, group] of groups.entries()) {
        group.inputs.forEach((input, oi) => {
          input.checked = quiz.picks[qi] === oi;
          input.disabled = locked;
        });
        const right = quiz.picks[qi] === group.q.correct;
        group.mark.textContent = locked ? (right ? "Correct" : "Incorrect") : "";
        group.mark.dataset.tone = locked ? (right ? "good" : "bad") : "";
      }
      submit.hidden = locked;
      retry.hidden = !(locked && !quiz.result.passed);
      if (quiz.result) {
        const { score, passed } = quiz.result;
        say(
          passed
            ? `Passed: ${score} of ${total}. Well done.`
            : `You scored ${score} of ${total}; you need ${screen.passMark} to pass. Review the lessons and retry.`,
          passed ? "good" : "bad"
        );
      }
    }

    function say(text, tone) {
      note.textContent = text;
      note.dataset.tone = tone;
    }

    submit.addEventListener("click", () => {
      const unanswered = groups.filter((_, qi) => quiz.picks[qi] === undefined).length;
      if (unanswered) return say(`Answer all ${groups.length} questions first (${unanswered} left).`, "info");
      const score = groups.reduce((sum, g, qi) => sum + (quiz.picks[qi] === g.q.correct ? g.q.points : 0), 0);
      const passed = score >= screen.passMark;
      quiz.result = { score, passed };
      sync();
      if (passed) {
        completeScreen(screen);
        el.next.focus();
      } else {
        emit("screen", "failed", { id: screen.id, title: screen.title, score, passMark: screen.passMark, attempt: quiz.attempt });
        retry.focus();
      }
    });

    retry.addEventListener("click", () => {
      quiz.attempt += 1;
      quiz.picks = {};
      quiz.result = null;
      emit("screen", "retry", { id: screen.id, title: screen.title, attempt: quiz.attempt });
      say("", "");
      sync();
      groups[0].inputs[0].focus();
    });

    sync();
    return h(
      "div",
      { class: "stack" },
      h("p", { class: "lead" }, `${groups.length} questions. You need ${screen.passMark} correct to pass.`),
      groups.map((g) => g.fieldset),
      note, // the result reads before the Retry button it explains
      h("div", { class: "actions" }, submit, retry)
    );
  }

  function feedbackScreen(screen) {
    const note = h("p", { class: "note", role: "status" });
    const describeRating = () => {
      note.textContent = state.rating
        ? `Thanks! You rated this course ${state.rating} (${screen.labels[state.rating - 1]}). You can change your rating.`
        : "Your rating is optional.";
    };
    const options = screen.labels.map((label, i) => {
      const rating = i + 1;
      const input = h("input", {
        type: "radio",
        name: "rating",
        value: String(rating),
        checked: state.rating === rating,
        onchange: () => {
          state.rating = rating;
          emit("course", "feedback", { rating, value: label });
          describeRating();
        },
      });
      return h("label", { class: "rating" }, input, h("span", { class: "rating-value" }, String(rating)), h("span", { class: "rating-label" }, label));
    });
    describeRating();
    return h(
      "div",
      { class: "stack" },
      h("fieldset", { class: "question" }, h("legend", {}, screen.question), h("div", { class: "ratings" }, options)),
      note,
      h("p", { class: "lead" }, "Select Finish course when you are ready.")
    );
  }

  function renderCompletion() {
    const quiz = screens.find((s) => s.type === "scored-quiz");
    const result = quiz && state.quizzes[quiz.id];
    const feedback = screens.find((s) => s.type === "feedback");
    const review = h("button", { class: "btn", type: "button", "data-action": "review", onclick: () => go(0) }, "Review course");
    el.screen.dataset.screenType = "completion";
    el.screen.dataset.screenId = "";
    el.screen.replaceChildren(
      markup("div", "done-badge", CHECK_SVG),
      h("h2", { tabindex: "-1" }, "Course complete"),
      h("p", { class: "lead" }, `You have finished ${course.title}.`),
      h(
        "dl",
        { class: "summary" },
        result && result.result
          ? [h("dt", {}, quiz.title), h("dd", {}, `${result.result.score} of ${quiz.questions.length}, attempt ${result.attempt}`)]
          : null,
        [h("dt", {}, "Your rating"), h("dd", {}, state.rating ? `${state.rating} (${feedback.labels[state.rating - 1]})` : "Not rated")]
      ),
      h("div", { class: "actions" }, review)
    );
  }

  const RENDERERS = {
    text: textScreen,
    media: mediaScreen,
    "single-choice": choiceScreen,
    "multiple-choice": choiceScreen,
    "scored-quiz": scoredScreen,
    feedback: feedbackScreen,
  };

  const VIDEO_SVG = `<svg viewBox="0 0 320 180" role="img" aria-label="Video still: a padlock beside the words correct horse battery staple">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1e3a5f"/><stop offset="1" stop-color="#0f1f33"/></linearGradient></defs>
    <rect width="320" height="180" fill="url(#sky)"/>
    <g transform="translate(48 52)" fill="none" stroke="#9cc3ff" stroke-width="6">
      <path d="M12 36V24a22 22 0 0 1 44 0v12"/><rect x="0" y="36" width="68" height="52" rx="8" fill="#9cc3ff" stroke="none"/>
      <circle cx="34" cy="58" r="7" fill="#0f1f33" stroke="none"/><rect x="31" y="60" width="6" height="14" rx="3" fill="#0f1f33" stroke="none"/>
    </g>
    <g font-family="system-ui, sans-serif" font-size="13" fill="#e6efff">
      <text x="140" y="78">correct-horse-</text><text x="140" y="98">battery-staple</text>
      <text x="140" y="124" font-size="10" fill="#9cc3ff">28 characters, easy to recall</text>
    </g></svg>`;

  const CHECK_SVG = `<svg viewBox="0 0 48 48" width="48" height="48"><circle cx="24" cy="24" r="24" fill="currentColor"/>
    <path d="M14 25l7 7 13-15" fill="none" stroke="#fff" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

  // ---- What scripts may do: the same clicks a learner makes ----------------------------

  const learner = {
    get screen() {
      return screens[state.index] || null;
    },
    get state() {
      return state;
    },
    next: () => harness.click(el.next, "the Next button"),
    back: () => harness.click(el.back, "the Back button"),
    action: (name) => harness.click(el.screen.querySelector(`[data-action="${name}"]`), `the ${name} button`),
    /** Tick options (by index) of the current choice screen, or of question `question` of a scored quiz. */
    choose(indices, question) {
      const scope = question === undefined ? el.screen : el.screen.querySelector(`[data-question="${question}"]`);
      const inputs = [...scope.querySelectorAll("input")];
      for (const [i, input] of inputs.entries()) {
        if (input.checked !== indices.includes(i)) harness.click(input, `option ${i}`);
      }
    },
    rate: (rating) => harness.click(el.screen.querySelector(`input[name="rating"][value="${rating}"]`), `rating ${rating}`),
  };

  // ---- Start ---------------------------------------------------------------------------

  harness.player = { state, learner };
  document.querySelector(".app-title").textContent = course.title;
  harness.mountStatus(document.getElementById("status"), document.getElementById("warning"));
  el.back.addEventListener("click", onBack);
  el.next.addEventListener("click", onNext);

  const scriptName = harness.params.get("script");
  const loadMode = harness.load.modeFor(harness.params);

  /** The course never starts: say why where the course would be. */
  function refuse(heading, message) {
    el.nav.hidden = true;
    el.screen.dataset.screenType = "session";
    el.screen.replaceChildren(h("p", { class: "eyebrow" }, "Session"), h("h2", {}, heading), h("p", { class: "lead", role: "alert" }, message));
  }

  /** The token ran out while the page was open: nothing responds any more. */
  function lock(message) {
    el.screen.inert = true;
    el.nav.inert = true;
    harness.session.showNotice(document.querySelector(".app"), "Your session has expired", message);
  }

  harness.session.start({
    onReady() {
      emit("session", "ready");
      if (loadMode) {
        harness.load.start(loadMode, el.screen, el.nav);
      } else {
        go(0, { focus: false }); // do not take focus from the host page on load
        if (scriptName) harness.playerScripts.start(scriptName, learner);
      }
    },
    onRefused(message) {
      emit("session", "error", { message });
      refuse("This course cannot start", message);
    },
    onExpired(message, atLoad) {
      emit("session", "expired");
      if (atLoad) refuse("Your session has expired", message);
      else lock(message);
    },
  });
})(window.harness);
