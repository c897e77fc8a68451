//! Reaching a server's host: resolve its name once, check what it resolved to, connect to
//! exactly those addresses. Plain `ws://` is allowed to this machine only, and `localhost` is
//! a name like any other (a hosts file or resolver can point it anywhere): every address it
//! resolves to must be a loopback address, and the connection goes to the ones checked.

use crate::config::ServerUrl;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// Why the host could not be reached.
#[derive(Debug)]
pub(crate) enum Unreachable {
    /// Not resolved, or no address answered.
    Io(std::io::Error),
    /// Plain `ws://` to a name that resolves off this machine: refused, nothing sent.
    NotLoopback(String),
}

/// Refuses addresses off this machine for a plain `ws://` URL.
pub(crate) fn check_loopback(server: &ServerUrl, addrs: &[SocketAddr]) -> Result<(), String> {
    if !server.loopback_only() {
        return Ok(());
    }
    match addrs.iter().find(|a| !a.ip().is_loopback()) {
        None => Ok(()),
        Some(off) => Err(format!(
            "{} resolves to {}, not to this machine: plain ws:// is refused (use wss://)",
            server.host(),
            off.ip()
        )),
    }
}

/// A TCP connection to the server's host, Nagle off.
pub(crate) async fn connect(server: &ServerUrl) -> Result<TcpStream, Unreachable> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((server.host(), server.port()))
        .await
        .map_err(Unreachable::Io)?
        .collect();
    check_loopback(server, &addrs).map_err(Unreachable::NotLoopback)?;
    let tcp = TcpStream::connect(&addrs[..])
        .await
        .map_err(Unreachable::Io)?;
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().expect("addr")).collect()
    }

    #[test]
    fn plain_ws_reaches_loopback_addresses_only() {
        let local = ServerUrl::parse("ws://localhost:9/ws", false).expect("url");
        assert!(check_loopback(&local, &addrs(&["127.0.0.1:9", "[::1]:9"])).is_ok());
        let e = check_loopback(&local, &addrs(&["127.0.0.1:9", "10.0.0.5:9"])).expect_err("off");
        assert!(e.contains("localhost resolves to 10.0.0.5"), "{e}");
        // Encrypted, or plain allowed anywhere by the operator: no such check.
        let secure = ServerUrl::parse("wss://localhost:9/ws", false).expect("url");
        assert!(check_loopback(&secure, &addrs(&["10.0.0.5:9"])).is_ok());
        let allowed = ServerUrl::parse("ws://localhost:9/ws", true).expect("url");
        assert!(check_loopback(&allowed, &addrs(&["10.0.0.5:9"])).is_ok());
    }

    #[tokio::test]
    async fn localhost_resolves_here_and_connects() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = ServerUrl::parse(&format!("ws://localhost:{port}/ws"), false).expect("url");
        let (tcp, accepted) = tokio::join!(connect(&server), listener.accept());
        assert!(accepted.is_ok());
        assert!(tcp.is_ok_and(|t| t.peer_addr().is_ok_and(|a| a.ip().is_loopback())));
    }
}
