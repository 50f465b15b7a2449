//! The inbox in the vault: a page of cases with their titles decrypted here (fetched in bulk,
//! kept for search), the unseen markers asked afresh, and search over what was decrypted.

use super::*;

/// Inbox filters, as the form sends them.
#[derive(Debug, Default, Clone)]
pub struct InboxQuery {
    pub state: Option<String>,
    pub kind: Option<String>,
    pub overdue: bool,
    pub escalated: bool,
    /// Only cases assigned to this member.
    pub mine: bool,
    /// Search words (matched on this machine, over decrypted titles and bodies).
    pub q: Option<String>,
    pub page: u32,
    pub category: Option<String>,
    pub tag: Option<String>,
    /// Received on or after / on or before (`YYYY-MM-DD`).
    pub received_from: Option<String>,
    pub received_to: Option<String>,
    /// The cases this institution forwarded to another one.
    pub forwarded_away: bool,
    /// `newest` (default), `oldest`, `due`, `state`.
    pub sort: Option<String>,
}

/// One inbox row.
#[derive(Debug, Clone)]
pub struct Row {
    pub summary: CaseSummaryJson,
    pub opened: Opened,
    /// Something this member has not seen (asked afresh each time: never cached).
    pub unseen: Option<crate::domain::case::Unseen>,
}

impl Vault {
    fn filter(q: &InboxQuery, limit: u32, offset: u32) -> ListFilter {
        ListFilter {
            state: q.state.clone(),
            kind: q.kind.clone(),
            category: q.category.clone(),
            overdue: q.overdue,
            escalated: q.escalated,
            limit,
            offset,
            tag: q.tag.clone(),
            received_from: q.received_from.clone(),
            received_to: q.received_to.clone(),
            forwarded_away: q.forwarded_away,
            sort: q.sort.clone(),
        }
    }

    /// Decrypts (once) the content of each case not opened yet, fetching the envelopes in
    /// bulk: one request (and one audit commit on the server) per few hundred cases.
    pub(super) fn open_all(&mut self, cases: &[CaseSummaryJson]) -> Result<(), ClientError> {
        let missing: Vec<String> = cases
            .iter()
            .filter(|c| !self.opened.contains_key(&c.id))
            .map(|c| c.id.clone())
            .collect();
        for chunk in missing.chunks(crate::api::MAX_CONTENTS) {
            let envelopes: HashMap<String, Vec<u8>> = self
                .client
                .call(|cl| cl.contents(chunk))?
                .into_iter()
                .collect();
            // X25519 for each envelope: spread over the cores.
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let per = chunk.len().div_ceil(threads).max(1);
            let this = &*self;
            let opened: Vec<(String, Opened)> = std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .chunks(per)
                    .map(|part| {
                        let envelopes = &envelopes;
                        scope.spawn(move || {
                            part.iter()
                                .map(|id| {
                                    let sealed = envelopes.get(id).map(Vec::as_slice);
                                    (id.clone(), this.open_content(sealed))
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_default())
                    .collect()
            });
            self.opened.extend(opened);
        }
        Ok(())
    }

    /// A report's title and search text, decrypted here; unreadable when it does not open.
    fn open_content(&self, sealed: Option<&[u8]>) -> Opened {
        sealed
            .and_then(|s| self.client.open_document::<ReportDocument>(s).ok())
            .map_or_else(
                || Opened {
                    title: String::new(),
                    haystack: String::new(),
                    unreadable: true,
                },
                |doc| Opened {
                    title: doc.title.clone(),
                    haystack: format!("{}\n{}", doc.title, doc.body).to_lowercase(),
                    unreadable: false,
                },
            )
    }

    /// One page of the inbox, titles decrypted here. With search words, every case (up to
    /// [`SEARCH_LIMIT`]) is decrypted once and matched in memory. Returns the rows and whether
    /// there is a next page.
    pub fn inbox(&mut self, q: &InboxQuery) -> Result<(Vec<Row>, bool), ClientError> {
        let words: Vec<String> =
            q.q.as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_lowercase)
                .collect();
        let (cases, more) = if words.is_empty() {
            let f = Self::filter(q, PAGE_SIZE + 1, q.page * PAGE_SIZE);
            let mine = q.mine;
            let mut cases = self.client.call(|c| {
                if mine {
                    c.list_assigned_to_me(&f)
                } else {
                    c.list(&f)
                }
            })?;
            let more = cases.len() > PAGE_SIZE as usize;
            cases.truncate(PAGE_SIZE as usize);
            self.open_all(&cases)?;
            (cases, more)
        } else {
            let mut all = Vec::new();
            let mut offset = 0;
            while offset < SEARCH_LIMIT {
                let f = Self::filter(q, FETCH_ALL_PAGE, offset);
                let mine = q.mine;
                let page = self.client.call(|c| {
                    if mine {
                        c.list_assigned_to_me(&f)
                    } else {
                        c.list(&f)
                    }
                })?;
                let n = page.len() as u32;
                all.extend(page);
                if n < FETCH_ALL_PAGE {
                    break;
                }
                offset += FETCH_ALL_PAGE;
            }
            self.open_all(&all)?;
            let hits: Vec<CaseSummaryJson> = all
                .into_iter()
                .filter(|c| {
                    self.opened
                        .get(&c.id)
                        .is_some_and(|o| words.iter().all(|w| o.haystack.contains(w.as_str())))
                })
                .collect();
            let start = (q.page * PAGE_SIZE) as usize;
            let more = hits.len() > start + PAGE_SIZE as usize;
            let page = hits
                .into_iter()
                .skip(start)
                .take(PAGE_SIZE as usize)
                .collect();
            (page, more)
        };
        let ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
        let unseen = if ids.is_empty() {
            Default::default()
        } else {
            self.client.call(|c| c.unseen(&ids))?
        };
        let rows = cases
            .into_iter()
            .map(|summary| Row {
                opened: self.opened.get(&summary.id).cloned().unwrap_or_default(),
                unseen: unseen.get(&summary.id).copied(),
                summary,
            })
            .collect();
        Ok((rows, more))
    }
}
