//! The committed `ui/src/lib/generated/app/commands.ts` is what the command table generates.
//! Run with `UPDATE_BINDINGS=1` to rewrite it after changing the table.

#[test]
fn committed_command_bindings_match_the_command_table() {
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/generated/app");
    if let Err(drift) =
        brewdeck_protocol::check_committed(&dir, &brewdeck_app::bindings::typescript_bindings())
    {
        panic!("{drift}");
    }
}
