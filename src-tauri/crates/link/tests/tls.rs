//! `wss://` with real certificate checks: a self-signed site CA is refused until configured,
//! a certificate for another name is refused with a message that says so, a bad CA file is a
//! clear error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use brewdeck_link::{LinkConfig, LinkError, LinkState, ServerUrl};
use common::*;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

struct TlsServer {
    port: u16,
    ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A level-0 WebSocket server over TLS with a self-signed certificate for `names`.
async fn tls_server(names: &[&str]) -> TlsServer {
    brewdeck_link::install_crypto_provider();
    let certified =
        rcgen::generate_simple_self_signed(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
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
    TlsServer {
        port,
        ca_pem: certified.cert.pem(),
        task,
    }
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brewdeck-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn config(port: u16, site_ca: Option<PathBuf>) -> LinkConfig {
    let mut c =
        LinkConfig::new(ServerUrl::parse(&format!("wss://localhost:{port}/ws"), false).unwrap());
    c.timings = fast_timings();
    c.site_ca = site_ca;
    c
}

#[tokio::test]
async fn an_untrusted_certificate_fails_until_the_site_ca_is_given() {
    let server = tls_server(&["localhost"]).await;
    let (link, _) = link_with(config(server.port, None), TOKEN);
    let state = wait_state(&link, |s| matches!(s, LinkState::Failed { .. })).await;
    assert!(
        format!("{state:?}").contains("not signed by a trusted authority: add the site CA file"),
        "{state:?}"
    );
    link.shutdown().await;

    let ca = write_temp("site-ca.pem", &server.ca_pem);
    let (link, _) = link_with(config(server.port, Some(ca)), TOKEN);
    connected(&link).await;
    link.shutdown().await;
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let server = tls_server(&["plant.example"]).await;
    let ca = write_temp("other-name.pem", &server.ca_pem);
    let (link, _) = link_with(config(server.port, Some(ca)), TOKEN);
    let state = wait_state(&link, |s| matches!(s, LinkState::Failed { .. })).await;
    assert!(
        format!("{state:?}").contains("not valid for localhost"),
        "{state:?}"
    );
    link.shutdown().await;
}

#[tokio::test]
async fn set_server_moves_a_running_link_to_a_trusted_wss_server() {
    let server = tls_server(&["localhost"]).await;
    let (link, _) = link_with(config(server.port, None), TOKEN);
    wait_state(&link, |s| matches!(s, LinkState::Failed { .. })).await;
    let ca = write_temp("moved.pem", &server.ca_pem);
    link.set_server(
        ServerUrl::parse(&format!("wss://localhost:{}/ws", server.port), false).unwrap(),
        Some(&ca),
    )
    .await
    .unwrap();
    connected(&link).await;
    link.shutdown().await;
}

#[tokio::test]
async fn a_bad_site_ca_file_is_a_clear_error() {
    let garbage = write_temp("garbage.pem", "this is not a certificate");
    let err = brewdeck_link::Link::spawn(
        config(1, Some(garbage)),
        Arc::new(brewdeck_link::MemoryTokenStore::default()),
    )
    .unwrap_err();
    assert!(matches!(err, LinkError::BadCaFile { .. }), "{err}");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
    let missing = std::env::temp_dir().join("brewdeck-no-such-ca.pem");
    let err = brewdeck_link::Link::spawn(
        config(1, Some(missing)),
        Arc::new(brewdeck_link::MemoryTokenStore::default()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("brewdeck-no-such-ca.pem"), "{err}");
}
