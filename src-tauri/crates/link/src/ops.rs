//! The operations a [`crate::Link`] handle sends its actor.

use crate::command_book::{CommandDraft, CommandView};
use crate::config::ServerUrl;
use crate::error::LinkError;
use crate::history::HistoryRequest;
use crate::model::PlantSnapshot;
use crate::transport::tls::Destination;
use brewdeck_protocol::{AlarmId, EndpointId, History};
use tokio::sync::oneshot;

pub(crate) type Reply<T> = oneshot::Sender<T>;

#[derive(Debug)]
pub(crate) enum Op {
    Snapshot(Reply<PlantSnapshot>),
    Subscribe(Vec<EndpointId>, Reply<()>),
    Unsubscribe(Vec<EndpointId>, Reply<()>),
    FollowCatalog(bool, Reply<()>),
    SendCommand(CommandDraft, Reply<Result<CommandView, LinkError>>),
    Acknowledge(AlarmId, Reply<Result<(), LinkError>>),
    History(HistoryRequest, Reply<Result<History, LinkError>>),
    RetryNow,
    Connect,
    Disconnect,
    /// The token of this server changed in the store (set or forgotten): read it again. For
    /// another server than the link's, nothing happens.
    TokenChanged(ServerUrl),
    SetServer(Destination),
    Shutdown,
}
