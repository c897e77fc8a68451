//! The operations a [`crate::Link`] handle sends its actor.

use crate::command_book::{CommandDraft, CommandView};
use crate::config::ServerUrl;
use crate::error::LinkError;
use crate::model::PlantSnapshot;
use crate::requests::{Request, Waiter};
use crate::transport::tls::Destination;
use brewdeck_protocol::{AlarmId, EndpointId};
use tokio::sync::oneshot;

pub(crate) type Reply<T> = oneshot::Sender<T>;

#[derive(Debug)]
pub(crate) enum Op {
    Snapshot(Reply<PlantSnapshot>),
    Subscribe(Vec<EndpointId>, Reply<()>),
    Unsubscribe(Vec<EndpointId>, Reply<()>),
    FollowCatalog(bool, Reply<()>),
    SendCommand(CommandDraft, Reply<Result<CommandView, LinkError>>),
    /// An acknowledgement, with a note when the server serves `shelving`.
    Acknowledge(AlarmId, Option<String>, Reply<Result<(), LinkError>>),
    /// A level-1 request answered by its `requestId`.
    Request(Request, Waiter),
    RetryNow,
    Connect,
    Disconnect,
    /// The token of this server changed in the store (set or forgotten): read it again. For
    /// another server than the link's, nothing happens.
    TokenChanged(ServerUrl),
    SetServer(Destination),
    Shutdown,
}
