//! The TypeScript bindings committed under `ui/src/lib/generated/` are what the Rust types
//! generate. Run with `UPDATE_BINDINGS=1` to rewrite them after changing a type.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn generated_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../ui/src/lib/generated/link")
}

#[test]
fn committed_bindings_match_the_rust_types() {
    let dir = generated_dir();
    let bindings = brewdeck_link::typescript_bindings();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for b in &bindings {
            std::fs::write(dir.join(&b.file), &b.text).unwrap();
        }
    }
    let mut drift = Vec::new();
    for b in &bindings {
        match std::fs::read_to_string(dir.join(&b.file)) {
            Ok(text) if text == b.text => {}
            Ok(_) => drift.push(format!("{} differs", b.file)),
            Err(_) => drift.push(format!("{} is missing", b.file)),
        }
    }
    let expected: std::collections::BTreeSet<_> = bindings.iter().map(|b| b.file.clone()).collect();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().into_string().unwrap();
        if !expected.contains(&name) {
            drift.push(format!("{name} is no longer generated"));
        }
    }
    assert!(
        drift.is_empty(),
        "ui/src/lib/generated/link is out of date ({}); rerun with UPDATE_BINDINGS=1",
        drift.join(", ")
    );
}
