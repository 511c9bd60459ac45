/* Authors who are not there: each script types and clicks in the builder as a person would,
 * pausing `speed` ms between steps.
 *   author   types a title, saves (created), adds a screen, saves (updated), saves again (updated)
 *   expire   types a title, saves once (created), then the session expires
 *   errors   count=N (default 3) session:error messages, each with a different message
 */
(function (harness) {
  "use strict";

  async function step(action) {
    await harness.pause();
    action();
  }

  const SCRIPTS = {
    async author(author) {
      await step(() => author.type("Password Hygiene for New Starters"));
      await step(author.save);
      await step(author.addScreen);
      await step(author.save);
      await step(author.save);
    },

    async expire(author) {
      await step(() => author.type("Phishing Awareness"));
      await step(author.save);
      await step(author.expire);
    },

    async errors(author) {
      const count = Math.floor(harness.numberParam("count", 3, 0, 10000));
      for (let i = 0; i < count; i++) await step(author.simulateError);
    },
  };

  function start(name, author) {
    const script = SCRIPTS[name];
    if (!script) {
      const warning = document.getElementById("warning");
      warning.textContent = `Unknown script "${name}". Known: ${Object.keys(SCRIPTS).join(", ")}.`;
      warning.hidden = false;
      return;
    }
    harness.runScript(name, () => script(author));
  }

  harness.builderScripts = { start, names: Object.keys(SCRIPTS) };
})(window.harness);
