// The admin's only script. While a run is under way, its page asks the API (with the session
// cookie, as any browser client of the API may) for the run every second and reloads when the run
// has moved on. Everything works without it; it only saves pressing reload.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("run-status");
    if (!box || box.dataset.active !== "true") {
      return;
    }
    var last = null;
    function poll() {
      fetch(box.dataset.runApi, { credentials: "include", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (run) {
          if (!run) { return; }
          var seen = run.status + "|" + JSON.stringify(run.result_data);
          if (last !== null && seen !== last) {
            window.location.reload();
            return;
          }
          last = seen;
          if (["pending", "running"].indexOf(run.status) === -1) {
            window.location.reload();
            return;
          }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    poll();
  });
})();
