//! Reports on the member's side: a case's audit entries (for the printed case file), the
//! institution's own counts, and the server's public statistics.

use super::{Client, ClientError, Result, path_segment};
use crate::api::{AuditEntryJson, CaseAuditResponse, InstitutionStatsResponse};

impl Client {
    /// Who did what to a case, by day (members who may read the case only).
    pub fn case_audit(&self, id: &str) -> Result<Vec<AuditEntryJson>> {
        let r: CaseAuditResponse = self.get_json(&format!("/cases/{}/audit", path_segment(id)))?;
        Ok(r.entries)
    }

    /// The member's institution's cases by state and its answers on time (its readers only).
    pub fn institution_stats(&self) -> Result<InstitutionStatsResponse> {
        self.get_json("/institution/stats")
    }

    /// The server's public statistics (`/stats.json`, no session): the share of answered cases
    /// answered on time across every institution, when it is published.
    pub fn public_on_time_percent(&self) -> Result<Option<u64>> {
        #[derive(serde::Deserialize)]
        struct Public {
            answered_on_time_percent: Option<u64>,
        }
        let res = self.agent.get(&format!("{}/stats.json", self.base)).call();
        let mut res = res.map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = res.status().as_u16();
        if status >= 400 {
            return Err(ClientError::Server {
                status,
                message: "public statistics".into(),
            });
        }
        let p: Public = res
            .body_mut()
            .read_json()
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok(p.answered_on_time_percent)
    }
}

impl Client {
    /// Every institution and the server's report categories, with their names.
    pub fn directory(&self) -> Result<crate::api::InstitutionsResponse> {
        self.get_json("/institutions")
    }
}
