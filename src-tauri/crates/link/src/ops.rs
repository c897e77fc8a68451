//! The operations a [`crate::Link`] handle sends its actor.

use crate::command_book::{CommandDraft, CommandView};
use crate::config::ServerUrl;
use crate::error::LinkError;
use crate::model::PlantSnapshot;
use brewdeck_protocol::{AlarmId, EndpointId, Token};
use std::sync::Arc;
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
    RetryNow,
    Connect,
    Disconnect,
    /// A new token (already saved to the store), or `None` when it was forgotten.
    TokenChanged(Option<Token>),
    SetServer(ServerUrl, Arc<rustls::ClientConfig>),
    Shutdown,
}
