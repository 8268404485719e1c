//! Blocklists (and the STIX bundle) as the API serves them: built once per store change and
//! shared by every request, instead of being built (with every finding read) for each one.
//!
//! Requests for a format that is being built wait for that build (one at a time per
//! format); a body is handed out as shared bytes, so a thousand clients downloading the same
//! list hold one copy of it.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::response::Response;

use super::{Ctx, with_store};
use crate::export::{self, Document, Format};

/// One built blocklist.
pub(super) struct Built {
    pub body: Bytes,
    /// Strong ETag of `body`.
    pub etag: String,
    /// When the listed content last changed (`Last-Modified`).
    pub changed: Option<SystemTime>,
    /// The store generation it was built from.
    generation: u64,
}

/// The last build of each document: every blocklist format, then STIX.
#[derive(Default)]
pub(super) struct Cache {
    slots: [tokio::sync::Mutex<Option<Arc<Built>>>; Format::ALL.len() + 1],
}

impl Cache {
    /// `format` as the store holds it now: the cached build while the store has not changed
    /// since, else a new one.
    pub(super) async fn get(&self, state: &Ctx, format: Document) -> Result<Arc<Built>, Response> {
        let index = Document::all()
            .position(|d| d == format)
            .expect("every document is in all()");
        let mut slot = self.slots[index].lock().await;
        if let Some(built) = slot.as_ref()
            && built.generation == state.store.generation()
        {
            return Ok(built.clone());
        }
        let export::Settings { policy, zone, .. } = state.export.clone();
        let built = with_store(state, move |store| {
            // Read first: a change during the build makes the next request build again.
            let generation = store.generation();
            let out = export::document_from_store(store, format, &policy, &zone)?;
            // The STIX bundle changes with more than the listed names (reasons, enrichment):
            // its ETag alone says whether it changed.
            let changed = match format {
                Document::List(_) => store.zone_changed_at().ok().flatten(),
                Document::Stix => None,
            };
            Ok(Built {
                body: Bytes::from(out.body),
                etag: out.etag,
                changed,
                generation,
            })
        })
        .await?;
        let built = Arc::new(built);
        *slot = Some(built.clone());
        Ok(built)
    }
}
