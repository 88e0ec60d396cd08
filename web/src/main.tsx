import { render } from "preact";
import { apiClient } from "./api/client";
import { ServicesProvider } from "./api/context";
import { App } from "./app";
import { AuthProvider, idToken, userManager } from "./auth";
import { loadConfig } from "./config";
import { I18nProvider } from "./i18n";
import "./style.css";

const root = document.getElementById("app");
if (root) {
  loadConfig()
    .then((config) => {
      const manager = userManager(config);
      const api = apiClient(config.api_url, () => idToken(manager));
      render(
        <ServicesProvider value={{ config, api }}>
          <AuthProvider manager={manager}>
            <I18nProvider>
              <App />
            </I18nProvider>
          </AuthProvider>
        </ServicesProvider>,
        root,
      );
    })
    .catch(() => {
      root.textContent = "A bilheteria não pôde ser carregada. / The box office could not load.";
    });
}
