import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Django serves index.html at /app/ (same origin as the API, session-cookie auth) and the
// hashed assets as static files under /static/app/ (collectstatic + WhiteNoise).
export default defineConfig({
  base: "/static/app/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    // `npm run dev`: forward API and auth calls to a local Django (runserver).
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/accounts": "http://127.0.0.1:8000",
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});
