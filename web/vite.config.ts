import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// `npm run dev` serves the app with hot reload; it reads /config.json from `public/` when
// present, else from a running `make dev` (the local stack serves it beside the build).
export default defineConfig({
  plugins: [preact()],
  build: {
    target: "es2022",
    sourcemap: true,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: {
      "/config.json": "http://127.0.0.1:8080",
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
