//! `brewdeck-hello`: one window, one page updating a line of text 10 times a second, nothing
//! else. The floor the benches (benches/run.sh) compare Brewdeck's memory and CPU with.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("brewdeck-hello: {e}");
        std::process::exit(1);
    }
}
