// thesisdb serve: the little that needs a script. Every page reads
// without it; this adds clicking a data point to mark its passage, and
// live counts for running runs.
(function () {
  "use strict";

  // selectDataPoint marks the passage of data point id in the text,
  // scrolls it into view and marks its row.
  function selectDataPoint(id) {
    document.querySelectorAll("mark.q.active").forEach(function (m) { m.classList.remove("active"); });
    document.querySelectorAll("tr.dp.selected").forEach(function (r) { r.classList.remove("selected"); });
    var marks = document.querySelectorAll('mark.q[data-dp~="' + id + '"]');
    marks.forEach(function (m) { m.classList.add("active"); });
    var row = document.getElementById("dp-" + id);
    if (row) row.classList.add("selected");
    if (marks.length > 0) {
      scrollToPassage(marks[0]);
    }
    return marks.length > 0;
  }

  // scrollToPassage brings mark to the middle of the text column when
  // the column scrolls on its own (wide screens), else of the window.
  function scrollToPassage(mark) {
    var col = mark.closest(".text-col");
    if (col && col.scrollHeight > col.clientHeight && getComputedStyle(col).position === "sticky") {
      var top = mark.getBoundingClientRect().top - col.getBoundingClientRect().top + col.scrollTop;
      col.scrollTop = Math.max(0, top - col.clientHeight / 2);
      var r = col.getBoundingClientRect();
      if (r.bottom < 0 || r.top > window.innerHeight) col.scrollIntoView({ block: "nearest" });
      return;
    }
    mark.scrollIntoView({ block: "center" });
  }

  function interactive(el) {
    return el.closest("form, button, input, select, textarea, summary, details");
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element) || interactive(t)) return;
    var row = t.closest("tr.dp");
    if (row) {
      var link = t.closest("a");
      if (link && !link.classList.contains("goto")) return; // page links keep their way
      if (selectDataPoint(row.getAttribute("data-dp"))) {
        ev.preventDefault();
        if (history.replaceState) history.replaceState(null, "", "#dp-" + row.getAttribute("data-dp"));
      }
      return;
    }
    var mark = t.closest("mark.q");
    if (mark) {
      var first = mark.getAttribute("data-dp").split(" ")[0];
      var r = document.getElementById("dp-" + first);
      selectDataPoint(first);
      if (r) r.scrollIntoView({ block: "center" });
    }
  });

  // A link to #dp-ID or #q-ID selects that data point on load.
  document.addEventListener("DOMContentLoaded", function () {
    var m = /^#(?:dp|q)-(\d+)$/.exec(location.hash);
    if (m) selectDataPoint(m[1]);
    pollRuns();
  });

  // pollRuns refreshes the counts of running runs every few seconds:
  // each element marked data-running="ID" has its [data-field] cells
  // set from /api/runs/ID until the run is no longer running.
  function pollRuns() {
    if (document.querySelectorAll("[data-running]").length === 0 || !window.fetch) return;
    var timer = setInterval(function () {
      var live = document.querySelectorAll("[data-running]");
      if (live.length === 0) { clearInterval(timer); return; }
      live.forEach(function (el) {
        var id = el.getAttribute("data-running");
        fetch("/api/runs/" + encodeURIComponent(id), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (run) {
            if (!run) return;
            el.querySelectorAll("[data-field]").forEach(function (cell) {
              var f = cell.getAttribute("data-field");
              if (!(f in run)) return;
              var v = run[f];
              if (f === "cost_usd") v = v === null ? "unknown" : "$" + Number(v).toFixed(4);
              cell.textContent = v === null || v === undefined ? "" : String(v);
            });
            if (run.status !== "running") el.removeAttribute("data-running");
          })
          .catch(function () {});
      });
    }, 3000);
  }
})();
