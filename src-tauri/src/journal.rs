//! The operator's record, wired: acknowledgements with a note, shelving, notes, the journal
//! view (the plant's journal when it keeps one, else this desk's own) and its export, and
//! alarm health. The rules are the station's and the protocol's; this only connects them.

use crate::desk::Desk;
use crate::error::AppError;
use brewdeck_link::LinkError;
use brewdeck_protocol::{AlarmId, EndpointId, JournalEntry, JournalQuery, Timestamp};
use brewdeck_station::journal::desk_journal;
use brewdeck_station::journal::{
    alarm_health, AckAllOutcome, AlarmHealth, JournalFilter, JournalPage, JournalSource,
};
use brewdeck_station::operator::{DeskOperator, Permission};
use brewdeck_station::record::view::ExportOutcome;

/// Entries read for an export or for alarm health, at most.
const MOST_ENTRIES: usize = 100_000;

async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| AppError::Internal("reading the journal failed".to_owned()))?
}

impl Desk {
    pub async fn operator(&self) -> Result<DeskOperator, AppError> {
        Ok(DeskOperator::of(&self.link.snapshot().await?))
    }

    /// Acknowledges an alarm, with a note when the plant keeps them.
    pub async fn acknowledge_alarm(
        &self,
        alarm: AlarmId,
        note: Option<String>,
    ) -> Result<(), AppError> {
        let note = checked_note(note)?;
        Ok(self.link.acknowledge(alarm, note).await?)
    }

    /// Acknowledges every unacknowledged alarm not shelved, with one note.
    pub async fn acknowledge_all(&self, note: Option<String>) -> Result<AckAllOutcome, AppError> {
        let note = checked_note(note)?;
        let plant = self.link.snapshot().await?;
        let mut outcome = AckAllOutcome {
            acknowledged: 0,
            refused: None,
        };
        for alarm in plant
            .alarms
            .iter()
            .filter(|a| a.acked != Some(true) && a.shelved.is_none())
        {
            match self
                .link
                .acknowledge(alarm.alarm_id.clone(), note.clone())
                .await
            {
                Ok(()) => outcome.acknowledged += 1,
                // Acknowledged or closed meanwhile, by another desk: nothing left to do.
                Err(LinkError::UnknownAlarm(_)) => {}
                Err(e @ (LinkError::NotConnected | LinkError::Stopped)) => return Err(e.into()),
                Err(e) => {
                    outcome.refused.get_or_insert_with(|| e.to_string());
                }
            }
        }
        Ok(outcome)
    }

    pub async fn shelve_alarm(
        &self,
        alarm: AlarmId,
        minutes: u32,
        reason: String,
    ) -> Result<(), AppError> {
        let operator = self.operator().await?;
        if let Permission::Denied { reason } = operator.shelve {
            return Err(AppError::Forbidden(reason));
        }
        brewdeck_protocol::check_reason(&reason).map_err(AppError::Invalid)?;
        let limit = operator.shelve_limit_minutes;
        if minutes == 0 || minutes > limit {
            return Err(AppError::Invalid(format!(
                "shelve for 1 to {limit} minutes, not {minutes}"
            )));
        }
        Ok(self.link.shelve(alarm, minutes, reason).await?)
    }

    pub async fn unshelve_alarm(&self, alarm: AlarmId) -> Result<(), AppError> {
        Ok(self.link.unshelve(alarm).await?)
    }

    /// A note for the shift's log: to the plant when it keeps one (every desk sees it), else
    /// into this desk's journal.
    pub async fn write_note(
        &self,
        text: String,
        endpoint_ids: Vec<EndpointId>,
    ) -> Result<(), AppError> {
        let request = brewdeck_protocol::NoteRequest {
            request_id: None,
            text,
            endpoint_ids: Some(endpoint_ids),
        };
        request.check().map_err(AppError::Invalid)?;
        let operator = self.operator().await?;
        let (text, endpoint_ids) = (request.text, request.endpoint_ids.unwrap_or_default());
        if !operator.notes_are_local {
            return Ok(self.link.note(text, endpoint_ids).await?);
        }
        if let Permission::Denied { reason } = operator.note {
            return Err(AppError::Forbidden(reason));
        }
        let (record, source, by) = (
            self.record.clone(),
            self.source.borrow().clone(),
            operator.signature(),
        );
        off_runtime(move || {
            desk_journal::keep_note(&record, &source, &by, text, endpoint_ids)?;
            Ok(())
        })
        .await
    }

    /// One page of the journal: the plant's when it keeps one and is reachable, else this
    /// desk's own, saying why.
    pub async fn journal(&self, filter: JournalFilter) -> Result<JournalPage, AppError> {
        let query = filter.query();
        query.check().map_err(AppError::Invalid)?;
        let operator = self.operator().await?;
        let mut notice = None;
        if !filter.desk_only && !operator.journal_is_local {
            match self.link.journal(query.clone()).await {
                Ok(j) => {
                    return Ok(JournalPage {
                        source: JournalSource::Plant,
                        entries: j.entries,
                        more: j.more,
                        notice: None,
                    })
                }
                Err(e @ (LinkError::NotConnected | LinkError::Unsupported(_))) => {
                    notice = Some(format!("{e}: showing this desk's own record"));
                }
                Err(e) => return Err(e.into()),
            }
        } else if !filter.desk_only {
            notice = Some(
                "this plant server keeps no journal: showing this desk's own record".to_owned(),
            );
        }
        let (entries, more) = self.desk_page(query).await?;
        Ok(JournalPage {
            source: JournalSource::Desk,
            entries,
            more,
            notice,
        })
    }

    async fn desk_page(&self, query: JournalQuery) -> Result<(Vec<JournalEntry>, bool), AppError> {
        let (record, source) = (self.record.clone(), self.source.borrow().clone());
        off_runtime(move || Ok(desk_journal::read_page(&record, &source, &query)?)).await
    }

    /// Every entry the filter matches (newest first, up to [`MOST_ENTRIES`]), paging through
    /// whichever journal the view shows; and whether that was all of them.
    async fn all_entries(
        &self,
        mut filter: JournalFilter,
    ) -> Result<(JournalSource, Vec<JournalEntry>, bool), AppError> {
        filter.limit = Some(brewdeck_protocol::JOURNAL_MAX_LIMIT);
        filter.before_seq = None;
        let mut out = Vec::new();
        loop {
            let page = self.journal(filter.clone()).await?;
            let source = page.source;
            filter.before_seq = page.entries.last().map(|e| e.seq);
            // A plant that became unreachable mid-way would mix journals: stay with the one
            // the first page came from.
            filter.desk_only = source == JournalSource::Desk;
            let more = page.more && filter.before_seq.is_some();
            out.extend(page.entries);
            if !more {
                return Ok((source, out, true));
            }
            if out.len() >= MOST_ENTRIES {
                return Ok((source, out, false));
            }
        }
    }

    /// The journal's entries the filter matches, as CSV, where the operator chooses.
    pub async fn export_journal_csv<R: tauri::Runtime>(
        &self,
        app: &tauri::AppHandle<R>,
        filter: JournalFilter,
    ) -> Result<ExportOutcome, AppError> {
        let (_, entries, _) = self.all_entries(filter).await?;
        let text = brewdeck_station::journal::csv::write(&entries);
        self.export(app, "csv", "CSV", text.into_bytes(), entries.len() as u64)
            .await
    }

    /// ISA-18.2's figures over the last 24 hours.
    pub async fn alarm_health(&self) -> Result<AlarmHealth, AppError> {
        let now = Timestamp::now();
        let filter = JournalFilter {
            from_ms: Some(now.unix_millis() - brewdeck_station::journal::health::WINDOW_MS),
            to_ms: Some(now.unix_millis()),
            kinds: vec![
                brewdeck_protocol::JournalKind::AlarmRaised,
                brewdeck_protocol::JournalKind::AlarmCleared,
            ],
            ..JournalFilter::default()
        };
        let (_, entries, complete) = self.all_entries(filter).await?;
        let alarms = self.link.snapshot().await?.alarms;
        Ok(alarm_health(&entries, &alarms, now, complete))
    }
}

fn checked_note(note: Option<String>) -> Result<Option<String>, AppError> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if let Some(n) = &note {
        brewdeck_protocol::check_ack_note(n).map_err(AppError::Invalid)?;
    }
    Ok(note)
}
