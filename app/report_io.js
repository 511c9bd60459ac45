// The report page's call into the browser that Python makes the same way on both runtimes: an
// HTTP request whose answer comes back as plain values (status, text). (Files are saved through
// boot.js's coursewirePage.save, as on the other pages.) Same-origin only; the staff session
// travels as its HttpOnly cookie, which no script here (or in Python) can read.
(function () {
  "use strict";
  window.coursewireReportIO = {
    // done(status, text) once the answer is read; status 0 when the server cannot be reached.
    request: function (method, url, body, done) {
      var init = {method: method, credentials: "same-origin", cache: "no-store", headers: {}};
      if (body) {
        init.body = body;
        init.headers["Content-Type"] = "application/json";
      }
      fetch(url, init)
        .then(function (response) {
          return response.text().then(function (text) { done(response.status, text); });
        })
        .catch(function () { done(0, ""); });
    }
  };
})();
