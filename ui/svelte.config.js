// Read by the Vite plugin and by svelte-check. Svelte 5 understands `<script lang="ts">`
// itself, so no preprocessor is needed.
/** @type {import("@sveltejs/vite-plugin-svelte").SvelteConfig} */
export default {
  compilerOptions: {
    // Runes only, everywhere in this project.
    runes: true,
  },
};
