//! Where a bench leaves its figures: `target/bench/<name>.json` (the bench binary is
//! `target/<profile>/deps/<name>-*`), or under `BENCH_DIR`. `benches/run.sh` merges them.

pub fn write(name: &str, figures: &serde_json::Value) {
    let dir = std::env::var_os("BENCH_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.join("bench"))
        });
    let Some(dir) = dir else {
        eprintln!("{name}: no folder for {name}.json");
        return;
    };
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(figures).unwrap_or_default() + "\n";
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
        Ok(()) => println!("  written to {}", path.display()),
        Err(e) => eprintln!("{name}: cannot write {}: {e}", path.display()),
    }
}
