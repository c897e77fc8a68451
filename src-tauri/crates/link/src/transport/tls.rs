//! The TLS client configuration: the system's trusted roots plus an optional site CA file.

use crate::error::LinkError;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::Path;
use std::sync::{Arc, Once};

/// rustls needs one process-wide crypto provider; tokio-tungstenite installs none.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another part of the process installed one first: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client configuration trusting the system roots and, if given, every certificate in the
/// site CA file.
pub(crate) fn client_config(
    site_ca: Option<&Path>,
) -> Result<Arc<rustls::ClientConfig>, LinkError> {
    install_crypto_provider();
    let mut roots = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    for error in &system.errors {
        tracing::warn!(%error, "could not read some system certificates");
    }
    let (added, ignored) = roots.add_parsable_certificates(system.certs);
    tracing::debug!(added, ignored, "system roots loaded");
    if let Some(path) = site_ca {
        let bad = |reason: String| LinkError::BadCaFile {
            path: path.display().to_string(),
            reason,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(pem_reason(&e)))?
            .collect::<Result<_, _>>()
            .map_err(|e| bad(pem_reason(&e)))?;
        if certs.is_empty() {
            return Err(bad("no PEM certificate in it".to_owned()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| bad(format!("not a usable CA certificate: {e}")))?;
        }
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn pem_reason(e: &rustls_pki_types::pem::Error) -> String {
    match e {
        rustls_pki_types::pem::Error::Io(io) => io.to_string(),
        other => format!("not a PEM file ({other:?})"),
    }
}

/// An operator's explanation of a TLS failure.
pub(crate) fn explain(e: &rustls::Error, host: &str) -> String {
    use rustls::{CertificateError, Error};
    match e {
        Error::InvalidCertificate(CertificateError::NotValidForName)
        | Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => format!(
            "the server's certificate is not valid for {host}: check the host name in the server URL"
        ),
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
            "the server's certificate for {host} is not signed by a trusted authority: add the site CA file in the settings"
        ),
        Error::InvalidCertificate(CertificateError::Expired)
        | Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            format!("the server's certificate for {host} has expired")
        }
        Error::InvalidCertificate(other) => {
            format!("the server's certificate for {host} was refused: {other:?}")
        }
        other => format!("TLS with {host} failed: {other}"),
    }
}
