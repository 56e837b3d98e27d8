// Swagger UI over the gateway's own OpenAPI document; everything is served by the
// gateway itself (no CDN).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
});
