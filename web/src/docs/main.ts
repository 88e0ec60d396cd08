// The API's interactive reference (Swagger UI, bundled from npm): api/openapi.yaml as the stack
// in /config.json serves it, with "Try it out" calling that API.

import SwaggerUIBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import "swagger-ui-dist/swagger-ui.css";
import { loadConfig } from "../config";

void loadConfig().then((config) => {
  SwaggerUIBundle({
    url: `${config.api_url}/openapi.yaml`,
    dom_id: "#reference",
    deepLinking: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
    // No call to swagger.io to validate the document.
    validatorUrl: null,
  });
});
