//! One proxied connection: two directions, each a reader that stamps chunks with their delivery
//! time and a writer that delivers them as the standing faults say.

use crate::faults::{Faults, Kill};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::Instant;

const READ_BUFFER: usize = 16 * 1024;
/// Chunks in flight per direction: a slow pipe pushes back on its sender, as TCP would.
const QUEUE: usize = 64;
const UPSTREAM_CONNECT: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub accepted: AtomicU64,
    pub open: AtomicU64,
    pub bytes_down: AtomicU64,
    pub bytes_up: AtomicU64,
    pub writes: AtomicU64,
    pub swallowed: AtomicU64,
    pub cuts: AtomicU64,
    pub resets: AtomicU64,
    pub strands: AtomicU64,
}

/// What a reader hands its writer.
enum Chunk {
    Data(Instant, Vec<u8>),
    /// The sender closed its side: close ours after the data before it.
    Eof,
    /// The sender's side was reset: reset ours.
    Reset,
}

#[derive(Clone, Copy)]
enum Way {
    Up,
    Down,
}

pub(crate) async fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    mut faults: watch::Receiver<Faults>,
    mut kills: broadcast::Receiver<Kill>,
    seed: u64,
    shared: Arc<Shared>,
) {
    shared.open.fetch_add(1, Ordering::Relaxed);
    let _open = OpenGuard(shared.clone());
    if faults.borrow().refuse {
        abort(&client);
        return;
    }
    let server = match tokio::time::timeout(UPSTREAM_CONNECT, TcpStream::connect(upstream)).await {
        Ok(Ok(s)) => s,
        _ => {
            // The plant is down: so is the path to it.
            abort(&client);
            return;
        }
    };
    // Each write is its own segment, so slicing reaches the peer as slices.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let (kill_tx, kill_rx) = watch::channel(None::<Kill>);
    let poisoned = Arc::new(AtomicBool::new(false));
    let stranded = Arc::new(AtomicBool::new(false));
    let swallow = Swallow {
        poisoned: poisoned.clone(),
        stranded: stranded.clone(),
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let up = direction(
        client_read,
        server_write,
        Way::Up,
        faults.clone(),
        kill_rx.clone(),
        kill_tx.clone(),
        swallow.clone(),
        rng.fork(),
        shared.clone(),
    );
    let down = direction(
        server_read,
        client_write,
        Way::Down,
        faults.clone(),
        kill_rx,
        kill_tx.clone(),
        swallow,
        rng.fork(),
        shared.clone(),
    );
    let both = async {
        tokio::join!(up, down);
    };
    tokio::pin!(both);
    loop {
        tokio::select! {
            () = &mut both => return,
            kill = kills.recv() => match kill {
                Ok(Kill::Strand) => {
                    count(&shared, Kill::Strand);
                    stranded.store(true, Ordering::Relaxed);
                }
                Ok(Kill::EndStranded) => {
                    if stranded.load(Ordering::Relaxed) {
                        count(&shared, Kill::Cut);
                        kill_tx.send_replace(Some(Kill::Cut));
                    }
                }
                Ok(kill) => {
                    count(&shared, kill);
                    kill_tx.send_replace(Some(kill));
                }
                // Missed kills were kills: act on the harshest.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    count(&shared, Kill::Reset);
                    kill_tx.send_replace(Some(Kill::Reset));
                }
                // The proxy is gone.
                Err(broadcast::error::RecvError::Closed) => {
                    kill_tx.send_replace(Some(Kill::Cut));
                }
            },
            changed = faults.changed() => {
                let lifted = changed.is_err() || !faults.borrow_and_update().blackhole;
                // A stranded connection stays dead whatever the standing faults.
                if lifted && poisoned.load(Ordering::Relaxed) {
                    // Bytes were swallowed: the stream has a hole, so it cannot go on.
                    count(&shared, Kill::Reset);
                    kill_tx.send_replace(Some(Kill::Reset));
                } else if changed.is_err() {
                    kill_tx.send_replace(Some(Kill::Cut));
                }
            }
        }
        // Once killed, only the directions' ending is left to wait for.
        if kill_tx.borrow().is_some() {
            both.await;
            return;
        }
    }
}

fn count(shared: &Shared, kill: Kill) {
    match kill {
        Kill::Cut => shared.cuts.fetch_add(1, Ordering::Relaxed),
        Kill::Reset => shared.resets.fetch_add(1, Ordering::Relaxed),
        Kill::Strand => shared.strands.fetch_add(1, Ordering::Relaxed),
        Kill::EndStranded => return,
    };
}

struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why a direction would swallow what it reads.
#[derive(Clone)]
struct Swallow {
    /// Set when a blackhole swallowed bytes: the stream has a hole.
    poisoned: Arc<AtomicBool>,
    /// Set when the connection was stranded: swallow for good.
    stranded: Arc<AtomicBool>,
}

/// Closes with RST rather than FIN.
fn abort(stream: &TcpStream) {
    let _ = stream.set_zero_linger();
}

#[allow(clippy::too_many_arguments)]
async fn direction(
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    way: Way,
    faults: watch::Receiver<Faults>,
    kill: watch::Receiver<Option<Kill>>,
    kill_tx: watch::Sender<Option<Kill>>,
    swallow: Swallow,
    rng: fastrand::Rng,
    shared: Arc<Shared>,
) {
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::join!(
        read(
            from,
            tx,
            faults.clone(),
            kill.clone(),
            swallow,
            rng,
            shared.clone()
        ),
        write(to, rx, way, faults, kill, kill_tx, shared),
    );
}

async fn read(
    mut from: OwnedReadHalf,
    tx: mpsc::Sender<Chunk>,
    faults: watch::Receiver<Faults>,
    mut kill: watch::Receiver<Option<Kill>>,
    swallow: Swallow,
    mut rng: fastrand::Rng,
    shared: Arc<Shared>,
) {
    let mut buf = vec![0u8; READ_BUFFER];
    // Chunks leave in order, whatever their jitter.
    let mut last_due = Instant::now();
    loop {
        let got = tokio::select! {
            _ = kill.wait_for(Option::is_some) => return,
            got = from.read(&mut buf) => got,
        };
        let f = faults.borrow().clone();
        let stranded = swallow.stranded.load(Ordering::Relaxed);
        if f.blackhole && !stranded && !matches!(got, Ok(0)) {
            swallow.poisoned.store(true, Ordering::Relaxed);
        }
        let chunk = match got {
            Ok(0) | Err(_) if f.blackhole || stranded => {
                // A half-open link carries no close either: hold until killed (a blackhole
                // that lifts kills a poisoned connection).
                if !stranded {
                    swallow.poisoned.store(true, Ordering::Relaxed);
                }
                let _ = kill.wait_for(Option::is_some).await;
                return;
            }
            Ok(0) => Chunk::Eof,
            Err(_) => Chunk::Reset,
            Ok(n) if f.blackhole || stranded => {
                shared.swallowed.fetch_add(n as u64, Ordering::Relaxed);
                continue;
            }
            Ok(n) => {
                let extra = if f.jitter.is_zero() {
                    Duration::ZERO
                } else {
                    let jitter_us = u64::try_from(f.jitter.as_micros()).unwrap_or(u64::MAX);
                    Duration::from_micros(rng.u64(0..=jitter_us))
                };
                let due = (Instant::now() + f.latency + extra).max(last_due);
                last_due = due;
                Chunk::Data(due, buf[..n].to_vec())
            }
        };
        let last = !matches!(chunk, Chunk::Data(..));
        tokio::select! {
            _ = kill.wait_for(Option::is_some) => return,
            sent = tx.send(chunk) => if sent.is_err() { return },
        }
        if last {
            return;
        }
    }
}

async fn write(
    mut to: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Chunk>,
    way: Way,
    faults: watch::Receiver<Faults>,
    mut kill: watch::Receiver<Option<Kill>>,
    kill_tx: watch::Sender<Option<Kill>>,
    shared: Arc<Shared>,
) {
    let killed = loop {
        let chunk = tokio::select! {
            biased;
            k = kill.wait_for(Option::is_some) => break k.ok().and_then(|k| *k).unwrap_or(Kill::Cut),
            chunk = rx.recv() => chunk,
        };
        match chunk {
            // The reader only leaves without a word when the connection is killed.
            None => break (*kill.borrow()).unwrap_or(Kill::Cut),
            Some(Chunk::Eof) => {
                // A half-close: the socket lives on while the other way still reads.
                let _ = to.shutdown().await;
                return;
            }
            Some(Chunk::Reset) => {
                // Reset this side and end the other way too, so the socket closes with RST.
                kill_tx.send_replace(Some(Kill::Reset));
                break Kill::Reset;
            }
            Some(Chunk::Data(due, bytes)) => {
                let delivered = tokio::select! {
                    biased;
                    k = kill.wait_for(Option::is_some) => Err(k.ok().and_then(|k| *k).unwrap_or(Kill::Cut)),
                    done = deliver(&mut to, due, &bytes, way, &faults, &shared) => done.map_err(|_| Kill::Reset),
                };
                if let Err(kill) = delivered {
                    if kill == Kill::Reset {
                        kill_tx.send_replace(Some(Kill::Reset));
                    }
                    break kill;
                }
            }
        }
    };
    match killed {
        // Stranding never ends a direction; a cut is the gentle end.
        Kill::Cut | Kill::Strand | Kill::EndStranded => {
            let _ = to.shutdown().await;
        }
        Kill::Reset => {
            let _ = to.as_ref().set_zero_linger();
            // No FIN first: the socket closes, abortively, when the read half goes.
            to.forget();
        }
    }
}

async fn deliver(
    to: &mut OwnedWriteHalf,
    due: Instant,
    bytes: &[u8],
    way: Way,
    faults: &watch::Receiver<Faults>,
    shared: &Shared,
) -> std::io::Result<()> {
    tokio::time::sleep_until(due).await;
    let f = faults.borrow().clone();
    // A limited pipe delivers in small pieces, about 20 a second, so the rate is smooth.
    let paced = f
        .bandwidth
        .map(|bw| usize::try_from(bw / 20).unwrap_or(usize::MAX).max(1));
    let piece = f
        .slice
        .unwrap_or(usize::MAX)
        .min(paced.unwrap_or(usize::MAX))
        .max(1);
    for part in bytes.chunks(piece) {
        to.write_all(part).await?;
        shared.writes.fetch_add(1, Ordering::Relaxed);
        let counter = match way {
            Way::Up => &shared.bytes_up,
            Way::Down => &shared.bytes_down,
        };
        counter.fetch_add(part.len() as u64, Ordering::Relaxed);
        if let Some(bw) = f.bandwidth {
            tokio::time::sleep(Duration::from_secs_f64(
                part.len() as f64 / bw.max(1) as f64,
            ))
            .await;
        }
    }
    Ok(())
}
