//! Each fault, done to real loopback connections through the proxy to an echo server: what the
//! client sees, and what the server sees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use brewdeck_faults::{Fault, FaultProxy, Faults, ProxyCounters, Schedule};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// How a connection ended, as the echo server saw it.
#[derive(Debug, PartialEq, Eq)]
enum ServerSaw {
    Eof,
    Reset,
}

struct Echo {
    addr: SocketAddr,
    received: Arc<AtomicU64>,
    ends: mpsc::UnboundedReceiver<ServerSaw>,
}

async fn echo() -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(AtomicU64::new(0));
    let (tx, ends) = mpsc::unbounded_channel();
    let counted = received.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let counted = counted.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) => {
                            let _ = tx.send(ServerSaw::Eof);
                            return;
                        }
                        Ok(n) => {
                            counted.fetch_add(n as u64, Ordering::Relaxed);
                            if s.write_all(&buf[..n]).await.is_err() {
                                let _ = tx.send(ServerSaw::Reset);
                                return;
                            }
                        }
                        Err(_) => {
                            let _ = tx.send(ServerSaw::Reset);
                            return;
                        }
                    }
                }
            });
        }
    });
    Echo {
        addr,
        received,
        ends,
    }
}

async fn setup() -> (Echo, FaultProxy) {
    let echo = echo().await;
    let proxy = FaultProxy::start(echo.addr).await.unwrap();
    (echo, proxy)
}

/// Sends `bytes` and reads the same number back.
async fn round_trip(s: &mut TcpStream, bytes: &[u8]) -> Vec<u8> {
    let (mut r, mut w) = s.split();
    let mut back = vec![0u8; bytes.len()];
    let (wrote, read) = tokio::join!(w.write_all(bytes), r.read_exact(&mut back));
    wrote.unwrap();
    read.unwrap();
    back
}

async fn counters_reach(
    proxy: &FaultProxy,
    what: impl Fn(&ProxyCounters) -> bool,
) -> ProxyCounters {
    timeout(WAIT, async {
        loop {
            let c = proxy.counters();
            if what(&c) {
                return c;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("counters never got there: {:?}", proxy.counters()))
}

/// What the client reads next: bytes, a clean end, or a reset.
async fn next_read(s: &mut TcpStream) -> std::io::Result<usize> {
    let mut buf = [0u8; 64];
    timeout(WAIT, s.read(&mut buf))
        .await
        .expect("the read ended within the wait")
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn with_no_fault_bytes_pass_unchanged_both_ways() {
    let (_echo, proxy) = setup().await;
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let sent = pattern(1 << 20);
    assert_eq!(round_trip(&mut s, &sent).await, sent);
    let c = proxy.counters();
    assert_eq!((c.bytes_up, c.accepted), (1 << 20, 1));
}

#[tokio::test]
async fn a_cut_closes_both_sides_cleanly() {
    let (mut echo, proxy) = setup().await;
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut s, b"hello").await;
    proxy.cut();
    assert_eq!(
        next_read(&mut s).await.unwrap(),
        0,
        "the client reads the end"
    );
    let saw = timeout(WAIT, echo.ends.recv()).await.unwrap().unwrap();
    assert_eq!(saw, ServerSaw::Eof);
    counters_reach(&proxy, |c| c.open == 0 && c.cuts == 1).await;
}

#[tokio::test]
async fn a_reset_aborts_both_sides() {
    let (mut echo, proxy) = setup().await;
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut s, b"hello").await;
    proxy.reset();
    let err = next_read(&mut s).await.expect_err("the client is reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    let saw = timeout(WAIT, echo.ends.recv()).await.unwrap().unwrap();
    assert_eq!(saw, ServerSaw::Reset);
    counters_reach(&proxy, |c| c.open == 0 && c.resets == 1).await;
}

#[tokio::test]
async fn a_blackhole_swallows_everything_then_resets_as_it_lifts() {
    let (mut echo, proxy) = setup().await;
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut s, b"before").await;
    proxy.update(|f| f.blackhole = true);
    // Writes succeed, as on a half-open link; nothing reaches the plant.
    s.write_all(&pattern(5000)).await.unwrap();
    counters_reach(&proxy, |c| c.swallowed == 5000).await;
    assert_eq!(echo.received.load(Ordering::Relaxed), 6);
    // Not even a close goes through.
    s.shutdown().await.unwrap();
    // A connection made and closed meanwhile goes the same way, so the server has seen the end of neither.
    let mut other = TcpStream::connect(proxy.addr()).await.unwrap();
    other.write_all(b"lost").await.unwrap();
    counters_reach(&proxy, |c| c.swallowed == 5004).await;
    drop(other);
    assert!(
        echo.ends.try_recv().is_err(),
        "the server saw a close through a blackhole"
    );
    proxy.clear();
    // The stream has a hole: the connection cannot go on.
    let err = next_read(&mut s)
        .await
        .expect_err("reset as the blackhole lifts");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    for _ in 0..2 {
        assert_eq!(
            timeout(WAIT, echo.ends.recv()).await.unwrap().unwrap(),
            ServerSaw::Reset
        );
    }
    // A new connection after it is whole.
    let mut again = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut again, b"after").await, b"after");
}

#[tokio::test]
async fn a_blackhole_that_lifts_before_any_byte_leaves_the_connection_whole() {
    let (_echo, proxy) = setup().await;
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut s, b"one").await;
    proxy.update(|f| f.blackhole = true);
    proxy.clear();
    assert_eq!(round_trip(&mut s, b"two").await, b"two");
}

#[tokio::test]
async fn refusing_resets_new_connections_and_keeps_the_plant_untouched() {
    let (echo, proxy) = setup().await;
    proxy.update(|f| f.refuse = true);
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let end = next_read(&mut s).await;
    assert!(
        matches!(&end, Err(e) if e.kind() == ErrorKind::ConnectionReset),
        "{end:?}"
    );
    assert_eq!(echo.received.load(Ordering::Relaxed), 0);
    proxy.clear();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut s, b"up again").await, b"up again");
}

#[tokio::test]
async fn latency_delays_each_way_and_jitter_never_reorders() {
    let (_echo, proxy) = setup().await;
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut s, b"warm").await;
    proxy.set(Faults {
        latency: Duration::from_millis(150),
        ..Faults::none()
    });
    let start = Instant::now();
    round_trip(&mut s, b"ping").await;
    // A lower bound only: the proxy must hold each way at least its latency.
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
    proxy.set(Faults {
        latency: Duration::from_millis(5),
        jitter: Duration::from_millis(40),
        ..Faults::none()
    });
    // Many small writes, each a chunk with its own random delay: they come back in order.
    let (mut r, mut w) = s.into_split();
    let writer = tokio::spawn(async move {
        for i in 0..300u32 {
            w.write_all(&i.to_be_bytes()).await.unwrap();
            tokio::task::yield_now().await;
        }
        w
    });
    for i in 0..300u32 {
        let mut b = [0u8; 4];
        timeout(WAIT, r.read_exact(&mut b)).await.unwrap().unwrap();
        assert_eq!(u32::from_be_bytes(b), i);
    }
    writer.await.unwrap();
}

#[tokio::test]
async fn slicing_delivers_the_same_bytes_in_tiny_writes() {
    let (_echo, proxy) = setup().await;
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    proxy.update(|f| f.slice = Some(7));
    let sent = pattern(7_000);
    assert_eq!(round_trip(&mut s, &sent).await, sent);
    let c = proxy.counters();
    // At least 1 000 writes each way.
    assert!(c.writes >= 2_000, "{c:?}");
}

#[tokio::test]
async fn a_bandwidth_limit_holds_the_rate() {
    let (_echo, proxy) = setup().await;
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    proxy.update(|f| f.bandwidth = Some(32 * 1024));
    let start = Instant::now();
    let sent = pattern(64 * 1024);
    assert_eq!(round_trip(&mut s, &sent).await, sent);
    // 64 KiB at 32 KiB/s takes 2 s each way, overlapping; at least 1.5 s in all.
    assert!(
        start.elapsed() >= Duration::from_millis(1_500),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_plant_resets_the_client() {
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = free.local_addr().unwrap();
    drop(free);
    let proxy = FaultProxy::start(gone).await.unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let end = next_read(&mut s).await;
    assert!(
        matches!(&end, Err(e) if e.kind() == ErrorKind::ConnectionReset),
        "{end:?}"
    );
}

#[tokio::test]
async fn dropping_the_proxy_closes_its_connections_and_their_tasks() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let (_echo, proxy) = setup().await;
    let before = metrics.num_alive_tasks();
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        round_trip(&mut s, b"x").await;
        clients.push(s);
    }
    counters_reach(&proxy, |c| c.open == 20).await;
    drop(proxy);
    for s in &mut clients {
        assert_eq!(next_read(s).await.unwrap(), 0);
    }
    timeout(WAIT, async {
        // The echo server's 20 handlers end as the proxy's side closes, too.
        while metrics.num_alive_tasks() > before - 1 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{} tasks alive, {before} before", metrics.num_alive_tasks()));
}

#[tokio::test]
async fn connections_that_end_by_themselves_leave_nothing_open() {
    let (_echo, proxy) = setup().await;
    for _ in 0..50 {
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        round_trip(&mut s, b"bye").await;
        s.shutdown().await.unwrap();
        assert_eq!(next_read(&mut s).await.unwrap(), 0);
    }
    counters_reach(&proxy, |c| c.open == 0 && c.accepted == 50).await;
}

#[tokio::test]
async fn a_stranded_connection_goes_half_open_for_good_while_new_ones_pass() {
    let (mut echo, proxy) = setup().await;
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut s, b"before").await;
    proxy.strand();
    counters_reach(&proxy, |c| c.strands == 1).await;
    s.write_all(b"into the void").await.unwrap();
    counters_reach(&proxy, |c| c.swallowed == 13).await;
    // A new connection is whole, and standing faults coming and going do not revive the old.
    let mut fresh = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut fresh, b"new path").await, b"new path");
    proxy.update(|f| f.latency = Duration::from_millis(1));
    proxy.clear();
    s.write_all(b"still nothing").await.unwrap();
    counters_reach(&proxy, |c| c.swallowed == 26).await;
    drop(s);
    assert_eq!(echo.received.load(Ordering::Relaxed), 6 + 8);
    assert!(
        echo.ends.try_recv().is_err(),
        "a close went through a stranded connection"
    );
    // Until the proxy goes.
    drop(proxy);
    assert_eq!(
        timeout(WAIT, echo.ends.recv()).await.unwrap().unwrap(),
        ServerSaw::Eof
    );
}

#[tokio::test]
async fn ending_the_stranded_closes_them_and_leaves_the_others_whole() {
    let (mut echo, proxy) = setup().await;
    let mut stranded = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut stranded, b"before").await;
    proxy.strand();
    counters_reach(&proxy, |c| c.strands == 1).await;
    let mut whole = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut whole, b"x").await;
    proxy.end_stranded();
    // The stranded one ends cleanly on both sides; the other still carries bytes.
    assert_eq!(next_read(&mut stranded).await.unwrap(), 0);
    assert_eq!(
        timeout(WAIT, echo.ends.recv()).await.unwrap().unwrap(),
        ServerSaw::Eof
    );
    assert_eq!(round_trip(&mut whole, b"still here").await, b"still here");
    counters_reach(&proxy, |c| c.open == 1).await;
}

/// Seed 6302601011154421502 ends its schedule on a `Strand`: the bridge soak then waited
/// forever for the stranded connection to go, since `clear` does not end it. The schedule
/// itself ends what it stranded, whoever drives it.
#[tokio::test]
async fn a_schedule_that_ends_on_a_strand_leaves_nothing_stranded() {
    const SEED: u64 = 6_302_601_011_154_421_502;
    let (_echo, proxy) = setup().await;
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut s, b"up").await;
    // The soak's length that ended on a Strand: find the last step before 30 s.
    let mut at = Duration::ZERO;
    let mut last = None;
    for step in Schedule::new(SEED) {
        if at + step.after >= Duration::from_secs(30) {
            break;
        }
        at += step.after;
        last = Some(step.fault);
    }
    assert_eq!(last, Some(Fault::Strand), "the seed's last step");
    proxy.strand();
    counters_reach(&proxy, |c| c.strands == 1).await;
    // Driving only the short tail is enough: what matters is what `drive` does at its end.
    let until = Instant::now();
    Schedule::new(SEED).drive(&proxy, until).await;
    assert_eq!(
        next_read(&mut s).await.unwrap(),
        0,
        "the stranded one ended"
    );
    counters_reach(&proxy, |c| c.open == 0).await;
}
