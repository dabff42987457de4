// Starts ReDoc from the JSON configuration in the page: no inline script, so the page's
// Content-Security-Policy needs no 'unsafe-inline'.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("spaps-docs-config").textContent);
  Redoc.init(config.openapiUrl, config.options, document.getElementById("redoc-container"));
})();
