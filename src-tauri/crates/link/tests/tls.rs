//! `wss://` with real certificate checks, with certificates made here (rcgen): a leaf signed by
//! the site CA is trusted once the CA file is configured; a leaf signed by another CA, a leaf
//! for another name, an expired leaf and a leaf not yet valid are refused, each with a reason
//! an operator can act on, and the link waits in `failed`. A bad CA file is a clear error, and
//! no code path in the link skips verification. CA files live in temporary directories that
//! are removed when each test ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::{LinkConfig, LinkError, LinkState, ServerUrl};
use common::*;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;

/// A certificate authority: its certificate and the key it signs with.
struct Authority {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Authority {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        Authority { cert, key }
    }

    /// A server certificate for `names`, valid `from`..`until` (years, 1 January) when given.
    fn leaf(&self, names: &[&str], validity: Option<(i32, i32)>) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("plant"),
        );
        if let Some((from, until)) = validity {
            params.not_before = date_time_ymd(from, 1, 1);
            params.not_after = date_time_ymd(until, 1, 1);
        }
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            der: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    /// The CA file an operator would configure, in `dir`.
    fn pem_file(&self, dir: &tempfile::TempDir) -> PathBuf {
        write_pem(dir, "site-ca.pem", &self.cert.pem())
    }
}

struct Leaf {
    der: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

fn write_pem(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

struct TlsServer {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A level-0 WebSocket server over TLS presenting `leaf`.
async fn tls_server(leaf: Leaf) -> TlsServer {
    brewdeck_link::install_crypto_provider();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der], leaf.key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut ws) = tokio_tungstenite::accept_async(tls).await else {
                    return;
                };
                use futures_util::{SinkExt, StreamExt};
                let _ = ws
                    .send(tokio_tungstenite::tungstenite::Message::text(
                        r#"{"type":"connected","clientId":"tls"}"#,
                    ))
                    .await;
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    TlsServer { port, task }
}

fn config(port: u16, site_ca: Option<PathBuf>) -> LinkConfig {
    let mut c =
        LinkConfig::new(ServerUrl::parse(&format!("wss://localhost:{port}/ws"), false).unwrap());
    c.timings = fast_timings();
    c.site_ca = site_ca;
    c
}

/// Dials `wss://localhost` trusting `site_ca`; returns the reason the link failed with.
async fn refusal(server: &TlsServer, site_ca: Option<&Path>) -> String {
    let (link, _) = link_with(config(server.port, site_ca.map(Path::to_owned)), TOKEN);
    let state = wait_state(&link, |s| {
        matches!(s, LinkState::Failed { .. } | LinkState::Connected { .. })
    })
    .await;
    link.shutdown().await;
    match state {
        LinkState::Failed { reason } => reason,
        other => panic!("the link trusted the server: {other:?}"),
    }
}

#[tokio::test]
async fn a_leaf_signed_by_the_site_ca_is_trusted_once_the_ca_file_is_given() {
    let site = Authority::new("Brewdeck site CA");
    let server = tls_server(site.leaf(&["localhost"], None)).await;
    let reason = refusal(&server, None).await;
    assert!(
        reason.contains("for localhost is not signed by a trusted authority: add the site CA file"),
        "{reason}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (link, _) = link_with(config(server.port, Some(site.pem_file(&dir))), TOKEN);
    connected(&link).await;
    link.shutdown().await;
}

#[tokio::test]
async fn a_leaf_signed_by_an_unknown_ca_is_refused() {
    let site = Authority::new("Brewdeck site CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = site.pem_file(&dir);
    let other = tls_server(Authority::new("Other CA").leaf(&["localhost"], None)).await;
    let reason = refusal(&other, Some(&ca_file)).await;
    assert!(
        reason.contains("for localhost is not signed by a trusted authority: add the site CA file"),
        "{reason}"
    );
    // The site CA's name on another key: trust is in the key, not the name.
    let impostor = tls_server(Authority::new("Brewdeck site CA").leaf(&["localhost"], None)).await;
    let reason = refusal(&impostor, Some(&ca_file)).await;
    assert!(
        reason.contains("for localhost is not signed by a trusted authority (its issuer has a trusted name but another key)"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_certificate_for_another_host_is_refused_naming_both() {
    let site = Authority::new("Brewdeck site CA");
    let server = tls_server(site.leaf(&["plant.example"], None)).await;
    let dir = tempfile::tempdir().unwrap();
    let reason = refusal(&server, Some(&site.pem_file(&dir))).await;
    assert!(
        reason.contains("not valid for localhost (it is for plant.example): check the host name"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused_saying_it_expired_and_when() {
    let site = Authority::new("Brewdeck site CA");
    let server = tls_server(site.leaf(&["localhost"], Some((2020, 2021)))).await;
    let dir = tempfile::tempdir().unwrap();
    let reason = refusal(&server, Some(&site.pem_file(&dir))).await;
    assert!(
        reason.contains("certificate for localhost expired on 2021-01-01 00:00 UTC"),
        "{reason}"
    );
    assert!(reason.contains("renew it"), "{reason}");
}

#[tokio::test]
async fn a_certificate_not_yet_valid_is_refused_pointing_at_the_clock() {
    let site = Authority::new("Brewdeck site CA");
    let server = tls_server(site.leaf(&["localhost"], Some((2100, 2101)))).await;
    let dir = tempfile::tempdir().unwrap();
    let reason = refusal(&server, Some(&site.pem_file(&dir))).await;
    assert!(
        reason.contains("for localhost is not valid until 2100-01-01 00:00 UTC"),
        "{reason}"
    );
    assert!(reason.contains("check the clock"), "{reason}");
}

#[tokio::test]
async fn set_server_moves_a_running_link_to_a_trusted_wss_server() {
    let site = Authority::new("Brewdeck site CA");
    let server = tls_server(site.leaf(&["localhost"], None)).await;
    let (link, _) = link_with(config(server.port, None), TOKEN);
    wait_state(&link, |s| matches!(s, LinkState::Failed { .. })).await;
    let dir = tempfile::tempdir().unwrap();
    let destination = brewdeck_link::Destination::new(
        ServerUrl::parse(&format!("wss://localhost:{}/ws", server.port), false).unwrap(),
        Some(&site.pem_file(&dir)),
    )
    .unwrap();
    link.set_server(destination).await.unwrap();
    connected(&link).await;
    link.shutdown().await;
}

#[tokio::test]
async fn a_bad_site_ca_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = write_pem(&dir, "garbage.pem", "this is not a certificate");
    let err = brewdeck_link::Link::spawn(
        config(1, Some(garbage)),
        Arc::new(brewdeck_link::MemoryTokenStore::default()),
    )
    .unwrap_err();
    assert!(matches!(err, LinkError::BadCaFile { .. }), "{err}");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
    let missing = dir.path().join("brewdeck-no-such-ca.pem");
    let err = brewdeck_link::Link::spawn(
        config(1, Some(missing)),
        Arc::new(brewdeck_link::MemoryTokenStore::default()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("brewdeck-no-such-ca.pem"), "{err}");
    // A file far larger than any CA bundle is refused before it is read whole.
    let huge = dir.path().join("huge.pem");
    std::fs::write(
        &huge,
        vec![b'A'; usize::try_from(brewdeck_link::MAX_CA_FILE_BYTES).unwrap() + 1],
    )
    .unwrap();
    let url = brewdeck_link::ServerUrl::parse("wss://localhost:1/ws", false).unwrap();
    let err = brewdeck_link::Destination::new(url, Some(&huge)).unwrap_err();
    assert!(matches!(err, LinkError::BadCaFile { .. }), "{err}");
    assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path, text));
        }
    }
    out
}

/// No code path skips certificate verification: the link's sources name none of rustls's
/// ways around it, and build exactly one client configuration, on the trusted roots (the
/// WebPKI verifier). The WebSocket and the level-0 HTTP paths both take that configuration.
#[test]
fn no_code_path_skips_certificate_verification() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = sources(&src);
    assert!(files.len() > 10, "the link's sources were not found");
    const WAYS_AROUND: &[&str] = &[
        "dangerous",
        "danger::",
        "ServerCertVerifier",
        "NoVerifier",
        "NoCertificateVerification",
        "with_custom_certificate_verifier",
        "set_certificate_verifier",
        "accept_invalid",
        "InsecureSkipVerify",
    ];
    let mut builders = Vec::new();
    for (path, text) in &files {
        for way in WAYS_AROUND {
            assert!(
                !text.contains(way),
                "{} mentions {way}: certificate checks must never be skipped",
                path.display()
            );
        }
        let flat: String = text.split_whitespace().collect();
        for (at, _) in flat.match_indices("ClientConfig::builder()") {
            builders.push((
                path.clone(),
                flat[at..].chars().take(120).collect::<String>(),
            ));
        }
    }
    assert_eq!(builders.len(), 1, "{builders:?}");
    let (path, chain) = &builders[0];
    assert!(path.ends_with("transport/tls.rs"), "{}", path.display());
    assert!(
        chain.starts_with("ClientConfig::builder().with_root_certificates(roots)"),
        "{chain}"
    );
}
