//! The TLS client configuration: the system's trusted roots plus an optional site CA file.

use crate::config::ServerUrl;
use crate::error::LinkError;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Once};

/// The largest site CA file read: a CA bundle is a few hundred KiB at most.
pub const MAX_CA_FILE_BYTES: u64 = 1 << 20;

/// A server to move the link to, with everything that could be wrong with it already
/// checked (the URL, the site CA file read and parsed): moving there cannot half-fail.
#[derive(Clone)]
pub struct Destination {
    server: ServerUrl,
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("server", &self.server.as_str())
            .finish_non_exhaustive()
    }
}

impl Destination {
    /// Checks the site CA file (if any): at most [`MAX_CA_FILE_BYTES`], at least one PEM
    /// certificate, each usable as a CA. Reads a file: call it off the async threads.
    pub fn new(server: ServerUrl, site_ca: Option<&Path>) -> Result<Destination, LinkError> {
        Ok(Destination {
            server,
            tls: client_config(site_ca)?,
        })
    }

    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    pub(crate) fn into_parts(self) -> (ServerUrl, Arc<rustls::ClientConfig>) {
        (self.server, self.tls)
    }
}

/// The site CA file's bytes, refusing one too large to be a CA bundle before reading it whole.
fn read_ca_file(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(format!(
            "larger than {} MiB: not a CA certificate file",
            MAX_CA_FILE_BYTES >> 20
        ));
    }
    Ok(bytes)
}

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
        let bytes = read_ca_file(path).map_err(bad)?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
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
        Error::InvalidCertificate(CertificateError::NotValidForNameContext { presented, .. })
            if !presented.is_empty() =>
        {
            format!(
                "the server's certificate is not valid for {host} (it is for {}): check the host name in the server URL",
                names(presented)
            )
        }
        Error::InvalidCertificate(CertificateError::NotValidForName)
        | Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => format!(
            "the server's certificate is not valid for {host}: check the host name in the server URL"
        ),
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
            "the server's certificate for {host} is not signed by a trusted authority: add the site CA file in the settings"
        ),
        // An issuer that has a trusted authority's name but not its key.
        Error::InvalidCertificate(CertificateError::BadSignature) => format!(
            "the server's certificate for {host} is not signed by a trusted authority (its issuer has a trusted name but another key): check the site CA file in the settings"
        ),
        Error::InvalidCertificate(CertificateError::ExpiredContext { time, not_after }) => format!(
            "the server's certificate for {host} expired on {} (this computer's clock says {}): renew it on the plant server",
            date(*not_after),
            date(*time)
        ),
        Error::InvalidCertificate(CertificateError::Expired) => {
            format!("the server's certificate for {host} has expired: renew it on the plant server")
        }
        Error::InvalidCertificate(CertificateError::NotValidYetContext { time, not_before }) => {
            format!(
                "the server's certificate for {host} is not valid until {} (this computer's clock says {}): check the clock",
                date(*not_before),
                date(*time)
            )
        }
        Error::InvalidCertificate(CertificateError::NotValidYet) => format!(
            "the server's certificate for {host} is not valid yet: check this computer's clock"
        ),
        Error::InvalidCertificate(other) => {
            format!("the server's certificate for {host} was refused: {other:?}")
        }
        other => format!("TLS with {host} failed: {other}"),
    }
}

/// A certificate time for an operator: the day and minute, UTC.
fn date(t: rustls_pki_types::UnixTime) -> String {
    i64::try_from(t.as_secs())
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || format!("{} s after 1970", t.as_secs()),
            |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
}

/// The names a certificate presents, as rustls describes them (`DnsName("plant.example")`),
/// without the decoration; a handful at most.
fn names(presented: &[String]) -> String {
    let bare = |p: &String| {
        let inner = p
            .split_once('(')
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .unwrap_or(p);
        inner.trim_matches('"').to_owned()
    };
    let mut list: Vec<String> = presented.iter().take(5).map(bare).collect();
    if presented.len() > 5 {
        list.push(format!("{} more", presented.len() - 5));
    }
    list.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{CertificateError, Error};
    use rustls_pki_types::{ServerName, UnixTime};
    use std::time::Duration;

    #[test]
    fn a_name_mismatch_says_which_names_the_certificate_has() {
        let e = Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("localhost").expect("a DNS name"),
            presented: vec![
                r#"DnsName("plant.example")"#.to_owned(),
                "IpAddress(10.0.0.7)".to_owned(),
            ],
        });
        assert_eq!(
            explain(&e, "localhost"),
            "the server's certificate is not valid for localhost (it is for plant.example, 10.0.0.7): check the host name in the server URL"
        );
    }

    #[test]
    fn an_expired_certificate_says_when() {
        let e = Error::InvalidCertificate(CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(Duration::from_secs(1_795_420_800)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(1_609_459_200)),
        });
        let text = explain(&e, "plant.local");
        assert!(
            text.contains("plant.local expired on 2021-01-01 00:00 UTC"),
            "{text}"
        );
        assert!(text.contains("clock says 2026-11-23 08:00 UTC"), "{text}");
    }
}
