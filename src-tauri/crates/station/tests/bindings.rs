//! The TypeScript bindings committed under `ui/src/lib/generated/station` are what the Rust
//! types generate. Run with `UPDATE_BINDINGS=1` to rewrite them after changing a type.

#[test]
fn committed_bindings_match_the_rust_types() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../ui/src/lib/generated/station");
    if let Err(drift) =
        brewdeck_protocol::check_committed(&dir, &brewdeck_station::bindings::typescript_bindings())
    {
        panic!("{drift}");
    }
}
