// Start the vendored Swagger UI on the API explorer page (templates/outcomes/api/docs.html).
// The schema is read with the signed-in session; requests can only be GETs (the API reads only).
(function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  if (!element || typeof window.SwaggerUIBundle === "undefined") {
    return;
  }
  element.textContent = "";
  window.SwaggerUIBundle({
    url: element.getAttribute("data-schema-url"),
    domNode: element,
    deepLinking: false,
    supportedSubmitMethods: ["get"],
    defaultModelsExpandDepth: 0,
  });
})();
