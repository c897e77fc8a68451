//! Generates the app's context (config, capabilities, the permissions of exactly its own
//! commands). The web UI is embedded from `../ui/dist`; when it has not been built (a fresh
//! clone running `cargo test`), a placeholder page stands in, so Rust builds never need npm.

include!("src/command_table.rs");

// Only the names: the argument and return types are not resolved here.
macro_rules! command_names {
    ($($(#[doc = $doc:literal])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        const COMMAND_NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}
with_command_table!(command_names);

fn main() {
    let dist = std::path::Path::new("../ui/dist");
    if !dist.join("index.html").exists() {
        let _ = std::fs::create_dir_all(dist);
        let _ = std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>Brewdeck</title>\
             <p>The Brewdeck UI was not built: run <code>npm ci &amp;&amp; npm run build</code> in <code>ui/</code>.</p>",
        );
    }
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMAND_NAMES)),
    )
    .expect("the Tauri build step failed");
}
