// The report page's two calls into the browser that Python makes the same way on both runtimes:
// an HTTP request whose answer comes back as plain values (status, text), and saving text as a
// file. Same-origin only; the staff session travels as its HttpOnly cookie, which no script here
// (or in Python) can read.
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
    },
    // A Blob URL rather than a data: URL, which Chromium caps at 2 MB for downloads.
    save: function (filename, mime, text) {
      var url = URL.createObjectURL(new Blob([text], {type: mime + ";charset=utf-8"}));
      var link = document.createElement("a");
      link.href = url;
      link.download = filename;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    }
  };
})();
