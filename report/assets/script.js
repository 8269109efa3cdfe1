// bulkhead report: highlight a node's connections in the graph, filter the
// tables, and fill the navigation badges. No network access.
(function () {
  "use strict";
  var svg = document.getElementById("graph-svg");
  var info = document.getElementById("graph-info");
  function clear() {
    svg.classList.remove("focused");
    svg.querySelectorAll(".hl, .near, .focus").forEach(function (el) {
      el.classList.remove("hl", "near", "focus");
    });
    info.textContent = "";
  }
  function focus(nodeEl) {
    clear();
    var i = nodeEl.getAttribute("data-index");
    svg.classList.add("focused");
    nodeEl.classList.add("focus");
    var out = 0, inn = 0;
    svg.querySelectorAll(".edge").forEach(function (e) {
      var from = e.getAttribute("data-from"), to = e.getAttribute("data-to");
      if (from !== i && to !== i) { return; }
      e.classList.add("hl");
      if (from === i) { out++; } else { inn++; }
      var other = svg.querySelector('.node[data-index="' + (from === i ? to : from) + '"]');
      if (other) { other.classList.add("near"); }
    });
    var title = nodeEl.querySelector("title").textContent.split("\n")[0];
    info.textContent = title + ": may open connections to " + out + ", reachable from " + inn + ".";
  }
  if (svg) {
    svg.addEventListener("click", function (ev) {
      var n = ev.target.closest(".node");
      if (n) { focus(n); } else { clear(); }
    });
    svg.addEventListener("keydown", function (ev) {
      var n = ev.target.closest(".node");
      if (n && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); focus(n); }
      if (ev.key === "Escape") { clear(); }
    });
  }
  document.querySelectorAll("input.filter").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    if (!table) { return; }
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase();
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        tr.style.display = tr.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
      });
    });
  });
  function badge(id, n, level) {
    var b = document.getElementById(id);
    if (!b) { return; }
    b.textContent = String(n);
    b.classList.add(level);
  }
  var findings = document.querySelectorAll("#lint-table tr.finding").length;
  var errors = document.querySelectorAll("#lint-table tr.finding.error").length;
  var warnings = document.querySelectorAll("#lint-table tr.finding.warning").length;
  if (document.getElementById("lint-table") || document.querySelector(".good-note")) {
    badge("lint-badge", findings, errors > 0 ? "bad" : warnings > 0 ? "warn" : "good");
  }
  var tests = document.querySelectorAll("#tests-table tr.test").length;
  var failed = document.querySelectorAll("#tests-table tr.test.fail").length;
  if (tests > 0) { badge("tests-badge", failed > 0 ? failed + "/" + tests + " failed" : tests + " passed", failed > 0 ? "bad" : "good"); }
  document.body.setAttribute("data-findings", String(findings));
  document.body.setAttribute("data-ready", "1");
})();
