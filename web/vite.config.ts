import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// `npm run dev` serves the app with hot reload on http://localhost:5173 (the template's
// StorefrontDevOrigin, which the API's CORS and the sign-in allow); /config.json comes from a
// running `make dev`, which serves it beside its build.
export default defineConfig({
  plugins: [preact()],
  build: {
    target: "es2022",
    sourcemap: true,
    // The storefront, and the API's reference on its own page (its bundle loads only there).
    rollupOptions: {
      input: { main: "index.html", docs: "docs.html" },
    },
  },
  server: {
    host: "localhost",
    port: 5173,
    strictPort: true,
    proxy: {
      "/config.json": "http://127.0.0.1:8080",
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
