// The light/dark toggle of the API docs pages. Loaded in <head>, so the theme is set
// before the page paints; the choice is kept in localStorage, else the system's.
(function () {
  "use strict";
  var KEY = "spaps-docs-theme";
  var root = document.documentElement;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      if (value === "dark" || value === "light") return value;
    } catch (e) {
      // Storage may be disabled (privacy settings): fall back to the system preference.
    }
    return null;
  }

  function preferred() {
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    return stored() || (dark ? "dark" : "light");
  }

  function apply(theme) {
    root.setAttribute("data-theme", theme);
    var button = document.getElementById("spaps-theme-toggle");
    if (button) {
      button.setAttribute("aria-pressed", String(theme === "dark"));
      button.textContent = theme === "dark" ? "Light theme" : "Dark theme";
    }
  }

  apply(preferred());
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("spaps-theme-toggle");
    apply(root.getAttribute("data-theme") || "light");
    button.addEventListener("click", function () {
      var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
      try {
        window.localStorage.setItem(KEY, next);
      } catch (e) {
        // Not kept across pages; the toggle still works on this one.
      }
      apply(next);
    });
  });
})();
