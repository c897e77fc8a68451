import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

// One page, no SSR. Tauri loads `dist/` in release and http://localhost:1420 in dev
// (src-tauri/tauri.conf.json). The CSP allows only this app's own files: nothing here may
// reach for a CDN, a remote font or an inline script.
export default defineConfig({
  plugins: [svelte()],
  // Keep the Rust build's output visible when both run in one terminal.
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    // The Rust side is rebuilt by cargo, not watched here.
    watch: { ignored: ["**/src-tauri/**"] },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK / WKWebView on the oldest supported systems; WebView2 is newer.
    target: "safari15",
    // No polyfill script: one entry chunk, and the CSP allows no inline script anyway.
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
