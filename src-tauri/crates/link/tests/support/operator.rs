//! An operator at work in a soak, shared by the link's soak and the bridge's (station), which
//! includes this file by path: a setpoint now and then, and an acknowledgement for what shows.

use brewdeck_link::{CommandDraft, Link};
use brewdeck_protocol::{Action, AlarmId, CommandId, EndpointId, Value};
use std::ops::RangeInclusive;
use std::time::Duration;
use tokio::time::Instant;

/// Until `until`, after a pause drawn from `pause_ms` each time: a setpoint sent, and one of
/// the unacknowledged alarms acknowledged. Seeded. Returns the commands issued.
pub async fn operate(
    link: Link,
    setpoints: Vec<EndpointId>,
    pause_ms: RangeInclusive<u64>,
    seed: u64,
    until: Instant,
) -> Vec<CommandId> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut issued = Vec::new();
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(rng.u64(pause_ms.clone()))).await;
        let draft = CommandDraft {
            endpoint_id: setpoints[rng.usize(..setpoints.len())].clone(),
            action: Action::Set,
            value: Some(Value::Number(f64::from(rng.u32(40..=70)))),
        };
        if let Ok(view) = link.send_command(draft).await {
            issued.push(view.command_id);
        }
        if let Ok(snap) = link.snapshot().await {
            let open: Vec<AlarmId> = snap
                .alarms
                .iter()
                .filter(|a| a.acked != Some(true))
                .map(|a| a.alarm_id.clone())
                .collect();
            if !open.is_empty() {
                // Offline or racing a clear: the operator tries again on the next round.
                let _ = link
                    .acknowledge(open[rng.usize(..open.len())].clone(), None)
                    .await;
            }
        }
    }
    issued
}
