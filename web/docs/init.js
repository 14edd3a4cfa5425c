// Starts Swagger UI on /docs. Kept out of index.html so that the page works
// under a Content-Security-Policy without 'unsafe-inline' scripts.
"use strict";

window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
    // no call to the public validator service (validator.swagger.io)
    validatorUrl: null,
    // never take a spec URL or config from the page's query string
    queryConfigEnabled: false,
    persistAuthorization: false,
    tryItOutEnabled: false,
    displayRequestDuration: true,
    // send the refresh cookie with "Try it out" requests on the same origin
    withCredentials: true
  });
});
