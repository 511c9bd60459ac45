/* Learners who are not there: each script clicks through the player exactly as a person would
 * (real buttons, radios and checkboxes), pausing `speed` ms between steps.
 *   perfect          every screen, every answer right, rates 4 then changes to 5, finishes
 *   fail-then-pass   fails the scored quiz once, retries, passes, rates 4, finishes
 *   abandon-halfway  stops on the screen after the single-choice quiz (progress 50), never finishes
 */
(function (harness) {
  "use strict";

  function expectScreen(learner, type) {
    const screen = learner.screen;
    if (!screen || screen.type !== type) {
      throw new Error(`expected a ${type} screen, found ${screen ? screen.type : "none"}`);
    }
    return screen;
  }

  async function step(action) {
    await harness.pause();
    action();
  }

  async function readAndContinue(learner, type) {
    expectScreen(learner, type);
    await step(learner.next);
  }

  async function answerChoice(learner, type) {
    const screen = expectScreen(learner, type);
    await step(() => learner.choose(screen.correct));
    await step(() => learner.action("check"));
  }

  /** picks: per question, true for the right option or false for the first wrong one. */
  async function takeScoredQuiz(learner, picks) {
    const screen = expectScreen(learner, "scored-quiz");
    for (const [qi, right] of picks.entries()) {
      const question = screen.questions[qi];
      const wrong = question.options.findIndex((_, oi) => oi !== question.correct);
      await step(() => learner.choose([right ? question.correct : wrong], qi));
    }
    await step(() => learner.action("submit"));
  }

  async function throughSingleChoice(learner) {
    await readAndContinue(learner, "text");
    await readAndContinue(learner, "media");
    await answerChoice(learner, "single-choice");
  }

  const SCRIPTS = {
    async perfect(learner) {
      await throughSingleChoice(learner);
      await step(learner.next);
      await answerChoice(learner, "multiple-choice");
      await step(learner.next);
      await takeScoredQuiz(learner, [true, true, true]);
      await step(learner.next);
      expectScreen(learner, "feedback");
      await step(() => learner.rate(4));
      await step(() => learner.rate(5)); // feedback may change: hosts must keep the latest
      await step(learner.next); // Finish course
    },

    async "fail-then-pass"(learner) {
      await throughSingleChoice(learner);
      await step(learner.next);
      await answerChoice(learner, "multiple-choice");
      await step(learner.next);
      await takeScoredQuiz(learner, [true, false, false]); // 1 of 3: below the pass mark
      await step(() => learner.action("retry"));
      await takeScoredQuiz(learner, [true, true, true]);
      await step(learner.next);
      expectScreen(learner, "feedback");
      await step(() => learner.rate(4));
      await step(learner.next);
    },

    async "abandon-halfway"(learner) {
      await throughSingleChoice(learner);
      await step(learner.next); // looks at the next screen, then closes the tab
    },
  };

  function start(name, learner) {
    const script = SCRIPTS[name];
    if (!script) {
      const warning = document.getElementById("warning");
      warning.textContent = `Unknown script "${name}". Known: ${[...Object.keys(SCRIPTS), "noisy"].join(", ")}.`;
      warning.hidden = false;
      return;
    }
    harness.runScript(name, () => script(learner));
  }

  harness.playerScripts = { start, names: Object.keys(SCRIPTS) };
})(window.harness);
