// Starts Swagger UI from the JSON configuration in the page: no inline script, so the
// page's Content-Security-Policy needs no 'unsafe-inline'.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("spaps-docs-config").textContent);
  var options = Object.assign({}, config.parameters, {
    url: config.openapiUrl,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
  if (config.oauth2RedirectUrl) {
    options.oauth2RedirectUrl = window.location.origin + config.oauth2RedirectUrl;
  }
  var ui = SwaggerUIBundle(options);
  if (config.initOAuth) {
    ui.initOAuth(config.initOAuth);
  }
  window.ui = ui;
})();
