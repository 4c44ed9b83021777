(function () {
  "use strict";
  var body = document.body;
  document.querySelectorAll(".js-only").forEach(function (el) { el.style.display = "block"; });
  var all = function () { return document.querySelectorAll("details.span"); };
  document.getElementById("expand").addEventListener("click", function () { all().forEach(function (d) { d.open = true; }); });
  document.getElementById("collapse").addEventListener("click", function () { all().forEach(function (d) { d.open = false; }); });
  document.getElementById("errors-only").addEventListener("change", function (e) { body.classList.toggle("errors-only", e.target.checked); });
  // Clicking a log line shows the details of its span.
  document.querySelectorAll(".logs").forEach(function (ul) {
    ul.addEventListener("click", function () {
      var d = ul.previousElementSibling;
      if (d && d.tagName === "DETAILS") {
        d.open = true;
        d.classList.add("hl");
        setTimeout(function () { d.classList.remove("hl"); }, 1200);
        d.scrollIntoView({ block: "nearest" });
      }
    });
  });
})();
