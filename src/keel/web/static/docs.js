// Starts Swagger UI on /docs (a file, not an inline script, so the Content-Security-Policy holds).
// validatorUrl null: Swagger UI would otherwise ask validator.swagger.io for a badge (Keel works offline).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
});
