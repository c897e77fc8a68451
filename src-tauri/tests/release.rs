//! The release workflow and the updater configuration cannot run here (they need GitHub's
//! runners and the signing secrets); these checks keep them valid: the workflow builds every
//! desktop's installers on a tag with the updater's manifest, every secret it reads is
//! documented, and the updater only trusts https and a well-formed minisign public key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use serde_json::Value as Json;
use serde_yaml::Value;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn workflow_text() -> String {
    std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap()
}

#[test]
fn the_release_workflow_builds_every_desktop_on_a_tag() {
    let wf: Value = serde_yaml::from_str(&workflow_text()).unwrap();
    let tags = &wf["on"]["push"]["tags"];
    assert!(
        tags.as_sequence().unwrap().iter().any(|t| t == "v*"),
        "{tags:?}"
    );
    let job = &wf["jobs"]["installers"];
    let matrix = job["strategy"]["matrix"]["include"].as_sequence().unwrap();
    let args = |name: &str| -> String {
        matrix
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("no {name} build"))["args"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for bundle in ["deb", "rpm", "appimage"] {
        assert!(args("linux").contains(bundle), "linux lacks {bundle}");
    }
    for bundle in ["msi", "nsis"] {
        assert!(args("windows").contains(bundle), "windows lacks {bundle}");
    }
    assert!(args("macos").contains("universal-apple-darwin"));
    assert!(args("macos").contains("dmg"));

    let steps = job["steps"].as_sequence().unwrap();
    let action = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("tauri-apps/tauri-action@"))
        })
        .expect("a tauri-action step");
    assert_eq!(action["with"]["includeUpdaterJson"], Value::Bool(true));
    assert_eq!(
        action["env"]["TAURI_SIGNING_PRIVATE_KEY"],
        "${{ secrets.TAURI_SIGNING_PRIVATE_KEY }}"
    );
    // The CLI it runs is the one the UI pins.
    let script = action["with"]["tauriScript"].as_str().unwrap();
    assert_eq!(script, "ui/node_modules/.bin/tauri");
    let ui: Json =
        serde_json::from_str(&std::fs::read_to_string(root().join("ui/package.json")).unwrap())
            .unwrap();
    assert!(ui["devDependencies"]["@tauri-apps/cli"].is_string());
}

#[test]
fn every_secret_the_workflow_reads_is_documented_in_its_header() {
    let text = workflow_text();
    let header: String = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = text.as_str();
    let mut seen = 0;
    while let Some(i) = rest.find("secrets.") {
        rest = &rest[i + "secrets.".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name != "GITHUB_TOKEN" {
            assert!(header.contains(&name), "secret {name} is not documented");
        }
        seen += 1;
    }
    assert!(seen >= 8, "only {seen} secrets read");
}

#[test]
fn the_updater_trusts_only_https_and_a_minisign_key() {
    let conf: Json = serde_json::from_str(
        &std::fs::read_to_string(root().join("src-tauri/tauri.conf.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(conf["bundle"]["createUpdaterArtifacts"], true);
    let updater = &conf["plugins"]["updater"];
    let endpoints = updater["endpoints"].as_array().unwrap();
    assert!(!endpoints.is_empty());
    for e in endpoints {
        assert!(e.as_str().unwrap().starts_with("https://"), "{e}");
    }
    assert!(updater.get("dangerousInsecureTransportProtocol").is_none());
    let key = base64::engine::general_purpose::STANDARD
        .decode(updater["pubkey"].as_str().unwrap())
        .unwrap();
    let key = String::from_utf8(key).unwrap();
    let mut lines = key.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("untrusted comment: minisign public key"));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(lines.next().unwrap())
        .unwrap();
    // "Ed" then an 8-byte key id and a 32-byte Ed25519 key.
    assert_eq!(raw.len(), 42);
    assert_eq!(&raw[..2], b"Ed");
}

fn workflow() -> Value {
    serde_yaml::from_str(&workflow_text()).unwrap()
}

fn steps(job: &Value) -> &Vec<Value> {
    job["steps"].as_sequence().unwrap()
}

fn mentions_secret(value: &Value) -> bool {
    serde_yaml::to_string(value).unwrap().contains("secrets.")
}

/// A tag can be moved to other code; a commit cannot. Each action is pinned by its full
/// commit SHA, with the version it is in a comment beside it.
#[test]
fn every_action_is_pinned_by_a_full_commit_sha() {
    let text = workflow_text();
    let mut pinned = 0;
    for line in text.lines() {
        let Some(at) = line.find("uses:") else {
            continue;
        };
        let used = line[at + "uses:".len()..].trim();
        let (action, rest) = used.split_once('@').expect("an action names its version");
        let (sha, comment) = rest.split_once(' ').unwrap_or((rest, ""));
        assert!(
            sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
            "{action} is pinned by {sha:?}, not a commit SHA"
        );
        let named = comment.trim_start().strip_prefix('#').map(str::trim);
        assert!(
            named.is_some_and(|v| !v.is_empty()),
            "{action}: no comment naming the version: {line}"
        );
        pinned += 1;
    }
    assert!(pinned >= 4, "only {pinned} actions found");
}

#[test]
fn the_release_job_has_least_privilege_and_no_cache() {
    let wf = workflow();
    // Nothing granted workflow-wide; each job says what it needs.
    let top = wf["permissions"]
        .as_mapping()
        .expect("workflow permissions");
    assert!(top.is_empty(), "workflow-wide permissions: {top:?}");
    assert!(wf.get("env").is_none_or(|e| !mentions_secret(e)));
    for (name, job) in wf["jobs"].as_mapping().unwrap() {
        let perms = job["permissions"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{name:?}: no permissions"));
        for (scope, grant) in perms {
            assert!(
                grant == "read" || (scope == "contents" && grant == "write"),
                "{name:?} is granted {scope:?}: {grant:?}"
            );
        }
    }
    let job = &wf["jobs"]["installers"];
    assert_eq!(
        job["environment"], "release",
        "not in the protected environment"
    );
    for step in steps(job) {
        let uses = step["uses"].as_str().unwrap_or_default();
        assert!(!uses.contains("cache"), "a cache action: {uses}");
        assert!(
            step["with"].get("cache").is_none(),
            "{uses} restores a cache"
        );
        if uses.starts_with("actions/checkout@") {
            assert_eq!(
                step["with"]["persist-credentials"],
                Value::Bool(false),
                "the checkout keeps the token"
            );
        }
    }
}

/// Any of hundreds of crates' build scripts could read an environment variable: the secrets
/// are in no job- or workflow-wide environment, only in the steps that sign, and everything
/// is compiled before them.
#[test]
fn the_signing_secrets_reach_only_the_steps_that_sign() {
    let wf = workflow();
    let job = &wf["jobs"]["installers"];
    assert!(
        job.get("env").is_none_or(|e| !mentions_secret(e)),
        "job-wide secrets"
    );
    let names: Vec<String> = steps(job)
        .iter()
        .map(|s| {
            s["name"]
                .as_str()
                .or(s["uses"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let with_secrets: Vec<&String> = steps(job)
        .iter()
        .zip(&names)
        .filter(|(s, _)| mentions_secret(s))
        .map(|(_, n)| n)
        .collect();
    assert_eq!(
        with_secrets,
        ["Windows signing certificate", "bundle, sign and publish"],
        "steps that see secrets"
    );
    let compile = names
        .iter()
        .position(|n| n.starts_with("compile"))
        .expect("a compile step");
    let sign = names
        .iter()
        .position(|n| n == "bundle, sign and publish")
        .unwrap();
    assert!(
        compile < sign,
        "everything is compiled before the signing keys are in reach"
    );
    let run = steps(job)[compile]["run"].as_str().unwrap();
    assert!(run.contains("--no-bundle"), "{run}");
    // The same build configuration in both runs, so the signing step compiles nothing.
    let extra = "${{ env.TAURI_EXTRA_ARGS }}";
    assert!(run.contains(extra), "{run}");
    assert!(steps(job)[sign]["with"]["args"]
        .as_str()
        .unwrap()
        .contains(extra));
    // The Windows key leaves the runner's store whatever happened.
    let removed = steps(job)
        .iter()
        .find(|s| s["name"] == "Windows signing certificate removed")
        .expect("a step that removes the signing certificate");
    assert!(removed["if"].as_str().unwrap().contains("always()"));
}
