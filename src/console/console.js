// lookalike console: local times, copying, selection and keyboard triage. The pages work
// without it; it only adds to them. Loaded from /static (the CSP allows no inline script).
"use strict";
(function () {
  var lang = document.documentElement.lang || "en";

  // Times are written in UTC by the server; show them in the reader's zone.
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  } catch (e) {
    fmt = null;
  }
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (fmt && !isNaN(d.getTime())) {
      el.title = el.textContent;
      el.textContent = fmt.format(d);
    }
  });

  // "Copy as defanged".
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.getAttribute("data-copy"));
      if (!input) return;
      var done = function () {
        button.textContent = button.getAttribute("data-done") || "Copied";
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          input.select();
        });
      } else {
        input.select();
        if (document.execCommand("copy")) done();
      }
    });
  });

  var all = document.getElementById("select-all");
  var form = document.getElementById("triage");
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.findings tbody tr"));
  if (all) {
    all.addEventListener("change", function () {
      rows.forEach(function (r) {
        var box = r.querySelector("input[type=checkbox]");
        if (box) box.checked = all.checked;
      });
    });
  }

  // j/k move, x selects, Enter opens, c/f/i/t triage the selected rows (or the current one).
  var current = -1;
  function focusRow(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, j) {
      r.classList.toggle("current", j === current);
    });
    rows[current].scrollIntoView({ block: "nearest" });
  }
  rows.forEach(function (r, i) {
    r.addEventListener("click", function (e) {
      if (e.target.closest("a, input, button, label")) return;
      focusRow(i);
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && t.closest && t.closest("input, select, textarea, button")) return;
    if (!rows.length || !form) return;
    var k = e.key;
    if (k === "j") {
      focusRow(current + 1);
    } else if (k === "k") {
      focusRow(current - 1);
    } else if (k === "x" && current >= 0) {
      var box = rows[current].querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
    } else if ((k === "Enter" || k === "o") && current >= 0) {
      window.location.href = rows[current].getAttribute("data-href");
    } else {
      var button = form.querySelector('button[data-key="' + k + '"]');
      if (!button) return;
      var checked = form.querySelectorAll("tbody input[type=checkbox]:checked");
      if (!checked.length) {
        if (current < 0) return;
        rows[current].querySelector("input[type=checkbox]").checked = true;
      }
      if (form.requestSubmit) form.requestSubmit(button);
      else button.click();
    }
    e.preventDefault();
  });

  document.documentElement.setAttribute("data-js", "ready");
})();
